"""The losses of the two heads, in the shape of thinc's `Loss`: the tags' negative
log-likelihood under per-token log-probabilities, and under the CRF. The CRF's
runs in PyTorch on the model's device, its gradient by autograd."""

from typing import List, Sequence, Tuple

import numpy
from thinc.api import torch2xp, xp2torch
from thinc.backends import get_array_ops
from thinc.loss import Loss
from thinc.types import Floats2d, Ints1d

from .layers.crf import CRFOutput
from .potentials import NEVER, ChainScores
from .tagset import TagSet


class TagNLL(Loss):
    """Negative log-likelihood of the gold tags under per-token
    log-probabilities, averaged over the tokens of the batch that have a gold
    tag. truths[i][t] is the gold tag id of token t of doc i, or -1 where it
    is missing: such tokens give no loss and no gradient."""

    def __call__(
        self, guesses: List[Floats2d], truths: Sequence[Ints1d]
    ) -> Tuple[List[Floats2d], float]:
        ops = get_array_ops(guesses[0])
        lengths = [len(doc_log_probs) for doc_log_probs in guesses]
        log_probs = ops.flatten(guesses)
        d_log_probs = ops.alloc2f(*log_probs.shape)
        gold = numpy.concatenate([numpy.asarray(doc_gold) for doc_gold in truths])
        rows = numpy.flatnonzero(gold >= 0)
        if len(rows) == 0:
            return ops.unflatten(d_log_probs, lengths), 0.0
        rows_x, cols_x = ops.asarray1i(rows), ops.asarray1i(gold[rows])
        loss = -float(log_probs[rows_x, cols_x].sum()) / len(rows)
        d_log_probs[rows_x, cols_x] = -1.0 / len(rows)
        return ops.unflatten(d_log_probs, lengths), loss

    def get_grad(self, guesses: List[Floats2d], truths: Sequence[Ints1d]) -> List[Floats2d]:
        return self(guesses, truths)[0]

    def get_loss(self, guesses: List[Floats2d], truths: Sequence[Ints1d]) -> float:
        return self(guesses, truths)[1]


class InfeasibleGold(ValueError):
    """The gold tags of the batch's doc `index` allow no valid tag sequence."""

    def __init__(self, index: int, scheme: str):
        super().__init__(
            f"The gold tags of doc {index} of the batch make no valid {scheme} sequence."
        )
        self.index = index


class CRFLoss(Loss):
    """Negative log-likelihood of the gold tags under the CRF, per annotated
    token of the batch: log Z of all paths less log Z of the paths that agree
    with the gold tags. truths[i][t] is the gold tag id of token t of doc i,
    or -1 where it is missing: there every tag stays open, so missing tokens
    are summed out. Moves that the tag set's scheme forbids have no weight."""

    def __init__(self, tagset: TagSet):
        self.tagset = tagset

    def __call__(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> Tuple[CRFOutput, float]:
        import torch

        ops = get_array_ops(guesses.chain.transitions)
        d_emissions = [ops.alloc2f(*e.shape) for e in guesses.emissions]
        tagged = [i for i, gold in enumerate(truths) if (numpy.asarray(gold) >= 0).any()]
        n_annotated = int(sum((numpy.asarray(gold) >= 0).sum() for gold in truths))
        if not n_annotated:
            return CRFOutput(d_emissions, ChainScores(*map(ops.alloc_f, _shapes(guesses)))), 0.0
        lengths = [len(guesses.emissions[i]) for i in tagged]
        emissions = xp2torch(ops.pad([guesses.emissions[i] for i in tagged]), requires_grad=True)
        chain = [xp2torch(values, requires_grad=True) for values in guesses.chain]
        device = emissions.device
        masks = [torch.as_tensor(valid, device=device) for valid in self.tagset.mask]
        gold = torch.full(emissions.shape[:2], -1, dtype=torch.int64, device=device)
        for row, i in enumerate(tagged):
            gold[row, : lengths[row]] = torch.as_tensor(numpy.asarray(truths[i]), device=device)
        log_z, paths_left = log_partitions(
            emissions.double(),
            torch.as_tensor(lengths, device=device),
            [values.double() for values in chain],
            masks,
            gold,
        )
        if not bool(paths_left.all()):
            infeasible = int(torch.nonzero(~paths_left)[0, 0]) - len(tagged)
            raise InfeasibleGold(tagged[infeasible], self.tagset.scheme)
        free, clamped = log_z.split(len(tagged))
        loss = (free - clamped).sum() / n_annotated
        loss.backward()
        d_padded = torch2xp(emissions.grad)
        for row, i in enumerate(tagged):
            d_emissions[i][:] = d_padded[row, : lengths[row]]
        d_chain = ChainScores(*(torch2xp(values.grad) for values in chain))
        return CRFOutput(d_emissions, d_chain), float(loss.detach())

    def get_grad(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> CRFOutput:
        return self(guesses, truths)[0]

    def get_loss(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> float:
        return self(guesses, truths)[1]


def _shapes(output: CRFOutput) -> List[tuple]:
    return [values.shape for values in output.chain]


# Steps between two rescalings of the forward sums: in float64, eight steps of
# scores cannot overflow or underflow them.
RESCALE_EVERY = 8


def log_partitions(emissions, lengths, chain, masks, gold):
    """The log-partition of each doc's paths, then of its paths that agree with
    `gold` (-1: any tag), as one (2 * n_docs,) tensor, and whether each of
    those has a path at all. `emissions` (n_docs, n_steps, n_tags) is padded;
    `chain` the learned (start, transitions, end) scores, `masks` the scheme's
    allowed moves. The sums run in probability space, one matrix product a
    step, every few steps rescaled to sum to one by a constant (outside autograd: a constant
    factor leaves the gradient of a log unchanged) whose log adds up on the
    side, as do the emissions' per-step peaks. A doc's sum is read at its last
    step; past it, its row runs on over the padding, unread."""
    import torch

    n_docs, n_steps, n_tags = emissions.shape
    agrees = (gold[..., None] < 0) | (gold[..., None] == torch.arange(n_tags, device=gold.device))
    scores = torch.cat([emissions, emissions.masked_fill(~agrees, NEVER)])
    last = torch.cat([lengths, lengths]) - 1
    live = torch.arange(n_steps, device=last.device)[None, :] <= last[:, None]
    peaks = scores.detach().max(dim=2).values
    weights = torch.exp(scores - peaks[..., None]).unbind(dim=1)  # one gradient, not one a step
    start, moves, end = (
        torch.exp(values.masked_fill(~valid, NEVER)) for values, valid in zip(chain, masks)
    )
    tiny = torch.finfo(scores.dtype).tiny
    ending = {}
    for row, step in enumerate(last.tolist()):
        ending.setdefault(step, []).append(row)
    log_scale = torch.zeros(len(last), dtype=scores.dtype, device=scores.device)
    rows, sums, logs = [], [], []
    current = start * weights[0]
    for t in range(n_steps):
        if t:
            current = (current @ moves) * weights[t]
        if t % RESCALE_EVERY == 0:
            with torch.no_grad():
                total = current.sum(dim=1).clamp_min(tiny)
                log_scale += torch.log(total)
            current = current / total[:, None]
        if t in ending:
            at = torch.as_tensor(ending[t], device=scores.device)
            rows.append(at)
            sums.append(current[at] @ end)
            logs.append(log_scale[at])
    order = torch.argsort(torch.cat(rows))
    closing, log_scale = torch.cat(sums)[order], torch.cat(logs)[order]
    paths_left = closing.detach() > 0
    log_z = torch.log(closing.clamp_min(tiny)) + log_scale + (peaks * live).sum(dim=1)
    return log_z, paths_left
