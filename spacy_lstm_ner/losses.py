"""The losses of the two heads, in the shape of thinc's `Loss`: the tags' negative
log-likelihood under per-token log-probabilities, and under the CRF."""

from typing import List, Sequence, Tuple

import numpy
from thinc.backends import get_array_ops
from thinc.loss import Loss
from thinc.types import Floats2d, Ints1d

from .lattice import (
    NEVER,
    ChainScores,
    forward_backward,
    pad_emissions,
    restrict_to_scheme,
)
from .layers.crf import CRFOutput


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
    token of the batch. truths[i][t] is the gold tag id of token t of doc i,
    or -1 where it is missing: there every tag stays open, so missing tokens
    are summed out. Moves that `scheme` forbids have no weight."""

    def __init__(self, scheme: str):
        self.scheme = scheme

    def __call__(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> Tuple[CRFOutput, float]:
        ops = get_array_ops(guesses.chain.transitions)
        emissions = [ops.to_numpy(e) for e in guesses.emissions]
        d_emissions = [numpy.zeros(e.shape, dtype="float32") for e in emissions]
        d_chain = {
            name: numpy.zeros(values.shape)
            for name, values in zip(ChainScores._fields, guesses.chain)
        }
        n_annotated = int(sum((gold >= 0).sum() for gold in truths))
        loss = 0.0
        tagged = [i for i, gold in enumerate(truths) if (gold >= 0).any()]
        if n_annotated:
            chain = restrict_to_scheme(guesses.chain, self.scheme)
            padded = pad_emissions([emissions[i] for i in tagged])
            lengths = numpy.array([len(emissions[i]) for i in tagged])
            free = forward_backward(padded, lengths, chain)
            clamped = forward_backward(
                clamp_to_gold(padded, [truths[i] for i in tagged]), lengths, chain
            )
            infeasible = numpy.flatnonzero(clamped.log_z < NEVER / 2)
            if len(infeasible):
                raise InfeasibleGold(tagged[infeasible[0]], self.scheme)
            loss = float((free.log_z - clamped.log_z).sum()) / n_annotated
            for row, i in enumerate(tagged):
                n = lengths[row]
                d_emissions[i][:] = (free.tags[row, :n] - clamped.tags[row, :n]) / n_annotated
            for name in ChainScores._fields:
                d_chain[name] = (getattr(free, name) - getattr(clamped, name)) / n_annotated
        gradient = CRFOutput(
            [ops.asarray2f(d) for d in d_emissions],
            ChainScores(
                *(ops.asarray(d_chain[name], dtype="float32") for name in ChainScores._fields)
            ),
        )
        return gradient, loss

    def get_grad(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> CRFOutput:
        return self(guesses, truths)[0]

    def get_loss(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> float:
        return self(guesses, truths)[1]


def clamp_to_gold(emissions: numpy.ndarray, gold: List[numpy.ndarray]) -> numpy.ndarray:
    """Emissions with every path that disagrees with a gold tag set to NEVER.
    gold[i][t] is the tag id at token t of doc i, or -1 where it is unknown:
    there every tag stays open, so unknown tokens are summed out."""
    clamped = emissions.copy()
    for i, doc_gold in enumerate(gold):
        known = numpy.flatnonzero(doc_gold >= 0)
        keep = clamped[i, known, doc_gold[known]]
        clamped[i, known] = NEVER
        clamped[i, known, doc_gold[known]] = keep
    return clamped
