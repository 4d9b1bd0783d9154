"""The linear-chain CRF output layer in one place: a thinc layer that owns its
start, transition and end scores, its negative log-likelihood (a thinc `Loss`)
and its Viterbi decoding. Log-partition and marginals come from the
forward-backward algorithm, batched over docs, in float64: scores are kept as
logs, each step's sum over tags is a matrix product of rescaled exponentials."""
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
from thinc.api import Model
from thinc.backends import get_array_ops
from thinc.loss import Loss
from thinc.types import Floats2d, Ints1d

from .decoding import decodable_scores, decode_paths
from .tags import placeholder_tags, transition_mask

# Stands for log(0) where a path is forbidden; finite, so forbidden paths
# give exp(...) == 0 rather than NaN.
NEVER = -1e30


class ChainScores(NamedTuple):
    """A CRF's start, transition and end scores."""

    start: numpy.ndarray  # (n_tags,) score of opening a doc with each tag
    transitions: numpy.ndarray  # (n_tags, n_tags) score of tag i → tag j
    end: numpy.ndarray  # (n_tags,) score of closing a doc with each tag


class CRFOutput(NamedTuple):
    """What the CRF layer outputs, and the shape of its gradient."""

    emissions: List[Floats2d]  # (n_tokens, n_tags) score of each tag, per doc
    chain: ChainScores  # the layer's learned scores, every move still allowed


def crf_layer(nO: Optional[int] = None) -> Model[List[Floats2d], CRFOutput]:
    """A linear-chain CRF over per-token emission scores. Forward passes the
    emissions on together with the layer's start, transition and end scores;
    backprop increments those scores' gradients and returns the emissions'."""
    return Model(
        "crf",
        _crf_forward,
        init=_crf_init,
        dims={"nO": nO},
        params={name: None for name in ChainScores._fields},
    )


def _crf_init(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    if not model.has_dim("nO") and X:
        model.set_dim("nO", X[0].shape[1])
    n_tags = model.get_dim("nO")
    model.set_param("start", model.ops.alloc1f(n_tags))
    model.set_param("transitions", model.ops.alloc2f(n_tags, n_tags))
    model.set_param("end", model.ops.alloc1f(n_tags))


def _crf_forward(
    model: Model, emissions: List[Floats2d], is_train: bool
) -> Tuple[CRFOutput, Callable]:
    chain = ChainScores(*(model.get_param(name) for name in ChainScores._fields))

    def backprop(d_output: CRFOutput) -> List[Floats2d]:
        for name, gradient in zip(ChainScores._fields, d_output.chain):
            model.inc_grad(name, gradient)
        return d_output.emissions

    return CRFOutput(emissions, chain), backprop


class InfeasibleGold(ValueError):
    """The gold tags of the batch's doc `index` allow no valid tag sequence."""

    def __init__(self, index: int, scheme: str):
        super().__init__(f"The gold tags of doc {index} of the batch make no valid {scheme} sequence.")
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
        d_chain = {name: numpy.zeros(values.shape) for name, values in zip(ChainScores._fields, guesses.chain)}
        n_annotated = int(sum((gold >= 0).sum() for gold in truths))
        loss = 0.0
        tagged = [i for i, gold in enumerate(truths) if (gold >= 0).any()]
        if n_annotated:
            chain = restrict_to_scheme(guesses.chain, self.scheme)
            padded = pad_emissions([emissions[i] for i in tagged])
            lengths = numpy.array([len(emissions[i]) for i in tagged])
            free = forward_backward(padded, lengths, chain)
            clamped = forward_backward(clamp_to_gold(padded, [truths[i] for i in tagged]), lengths, chain)
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
            ChainScores(*(ops.asarray(d_chain[name], dtype="float32") for name in ChainScores._fields)),
        )
        return gradient, loss

    def get_grad(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> CRFOutput:
        return self(guesses, truths)[0]

    def get_loss(self, guesses: CRFOutput, truths: Sequence[Ints1d]) -> float:
        return self(guesses, truths)[1]


def crf_decode(
    output: CRFOutput, scheme: str, no_entity_start: Sequence[numpy.ndarray]
) -> List[numpy.ndarray]:
    """Tag ids of the best valid tag sequence of each doc under the CRF, with
    no entity opening on a token where `no_entity_start[i]` is True."""
    if not output.emissions:
        return []
    emissions = decodable_scores(output.emissions, scheme, no_entity_start)
    return crf_viterbi_decode(emissions, restrict_to_scheme(output.chain, scheme))


def crf_viterbi_decode(scores: Sequence[numpy.ndarray], chain: ChainScores) -> List[numpy.ndarray]:
    """Best tag sequence for each emission matrix under start, transition and
    end scores (forbidden moves set to NEVER)."""
    transitions = chain.transitions.astype("float32")

    def step(best: numpy.ndarray, backpointers: numpy.ndarray) -> numpy.ndarray:
        candidates = best[:, :, None] + transitions
        choice = candidates.argmax(axis=1)
        backpointers[:] = choice
        return numpy.take_along_axis(candidates, choice[:, None, :], axis=1)[:, 0]

    return decode_paths(scores, chain.start.astype("float32"), chain.end.astype("float32"), step)


def restrict_to_scheme(chain: ChainScores, scheme: str) -> ChainScores:
    """`chain` as float64 numpy arrays, with the moves `scheme` forbids set to NEVER."""
    ops = get_array_ops(chain.transitions)
    tags = placeholder_tags(chain.transitions.shape[0], scheme)
    learned = [ops.to_numpy(values) for values in chain]
    return restrict(*learned, *transition_mask(tags, scheme))


def restrict(
    start: numpy.ndarray,
    transitions: numpy.ndarray,
    end: numpy.ndarray,
    valid_start: numpy.ndarray,
    valid: numpy.ndarray,
    valid_end: numpy.ndarray,
) -> ChainScores:
    """Learned scores as float64, with the moves the masks forbid set to NEVER."""
    return ChainScores(
        numpy.where(valid_start, start, NEVER).astype("float64"),
        numpy.where(valid, transitions, NEVER).astype("float64"),
        numpy.where(valid_end, end, NEVER).astype("float64"),
    )


def pad_emissions(emissions: Sequence[numpy.ndarray]) -> numpy.ndarray:
    """(n_docs, n_steps, n_tags) float64, zero after each doc's end."""
    n_steps = max((len(e) for e in emissions), default=0)
    n_tags = emissions[0].shape[1]
    padded = numpy.zeros((len(emissions), n_steps, n_tags), dtype="float64")
    for i, doc_emissions in enumerate(emissions):
        padded[i, : len(doc_emissions)] = doc_emissions
    return padded


class Marginals(NamedTuple):
    log_z: numpy.ndarray  # (n_docs,) log-partition of each doc
    tags: numpy.ndarray  # (n_docs, n_steps, n_tags) P(tag j at t); 0 on padding
    transitions: numpy.ndarray  # (n_tags, n_tags) expected i → j count, summed over docs
    start: numpy.ndarray  # (n_tags,) expected opening-tag count, summed over docs
    end: numpy.ndarray  # (n_tags,) expected closing-tag count, summed over docs


class Lattice:
    """Forward and backward sums over the tag paths of a padded batch of docs,
    kept rescaled; the log-scores are read off for the (doc, step, tag) asked for.
    Docs are stored longest first: `row[doc]` is a doc's row."""

    def __init__(self, forward, forward_logs, backward, backward_logs, log_z, row):
        self.forward = forward  # (n_steps, n_docs, n_tags), each live row summing to one
        self.forward_logs = forward_logs  # (n_steps, n_docs) log of forward's scale
        self.backward = backward
        self.backward_logs = backward_logs
        self.log_z = log_z  # (n_docs,) log-partition of each doc, in the docs' order
        self.row = row

    def alpha(self, doc, step, tag=slice(None)) -> numpy.ndarray:
        """Log-sum of the scores of the paths from the start to `tag` at `step`."""
        row = self.row[doc]
        return _safe_log(self.forward[step, row, tag]) + _last_axis(self.forward_logs[step, row], tag)

    def beta(self, doc, step, tag=slice(None)) -> numpy.ndarray:
        """Log-sum of the scores of the paths from `tag` at `step` to the end,
        that tag's emission excluded."""
        row = self.row[doc]
        return _safe_log(self.backward[step, row, tag]) + _last_axis(self.backward_logs[step, row], tag)

    def all_alpha(self) -> numpy.ndarray:
        """alpha of every (doc, step, tag), (n_docs, n_steps, n_tags)."""
        logs = _safe_log(self.forward) + self.forward_logs[:, :, None]
        return logs.transpose(1, 0, 2)[self.row]

    def all_beta(self) -> numpy.ndarray:
        logs = _safe_log(self.backward) + self.backward_logs[:, :, None]
        return logs.transpose(1, 0, 2)[self.row]


def _last_axis(logs: numpy.ndarray, tag) -> numpy.ndarray:
    return logs[..., None] if isinstance(tag, slice) else logs


def lattice(
    emissions: numpy.ndarray, lengths: numpy.ndarray, chain: ChainScores, dtype: str = "float64"
) -> Lattice:
    """The forward and backward sums over each doc's tag paths. `emissions`
    is padded (n_docs, n_steps, n_tags); a path's score is the sum of its
    start, emission, transition and end scores. Every doc must have at least
    one token; restrict a doc's paths by setting emissions to NEVER. A doc
    left with no path has log_z below NEVER / 2; NEVER stands for log(0).

    The sums run in probability space, in float64: each step is one matrix
    product, rescaled to sum to one, and the logs of the scales (and of each
    token's largest emission) add up on the side. The docs run longest first,
    each step on the docs that reach it. The per-step weights and sums are
    stored as `dtype` (float32 halves the memory: each stored value is then
    read with float32's precision, and errors do not add up along a doc)."""
    n_docs, n_steps, n_tags = emissions.shape
    order = numpy.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    reaching = numpy.searchsorted(-lengths, -numpy.arange(n_steps + 1), side="left")
    weights = numpy.empty((n_steps, n_docs, n_tags), dtype=dtype)
    for row, i in enumerate(order):
        weights[:, row] = emissions[i]
    peaks = weights.max(axis=2)
    weights -= peaks[:, :, None]
    numpy.exp(weights, out=weights)
    moves, end = numpy.exp(chain.transitions), numpy.exp(chain.end)
    forward, forward_scale = numpy.zeros_like(weights), numpy.ones((n_steps, n_docs))
    closing = numpy.zeros((n_docs,))
    current = numpy.exp(chain.start) * weights[0, : reaching[0]]
    for t in range(n_steps):
        k, finished = reaching[t], reaching[t + 1]
        if t:
            current = (current[:k] @ moves) * weights[t, :k]
        forward_scale[t, :k] = _normalize(current)
        forward[t, :k] = current
        closing[finished:k] = (current[finished:k] * end).sum(axis=1)
    backward, backward_scale = numpy.zeros_like(weights), numpy.ones((n_steps, n_docs))
    current = numpy.zeros((0, n_tags))
    for t in range(n_steps - 1, -1, -1):
        going_on, reach_t = reaching[t + 1], reaching[t]
        stepped = numpy.empty((reach_t, n_tags))
        stepped[going_on:] = end
        if going_on:
            stepped[:going_on] = (weights[t + 1, :going_on] * current[:going_on]) @ moves.T
            backward_scale[t, :going_on] = _normalize(stepped[:going_on])
        backward[t, :reach_t] = stepped
        current = stepped
    live = numpy.arange(n_steps)[:, None] < lengths[None, :]
    forward_logs = numpy.cumsum(_safe_log(forward_scale) + peaks, axis=0)
    onward = numpy.zeros((n_steps, n_docs))
    onward[:-1] = (_safe_log(backward_scale[:-1]) + peaks[1:]) * live[1:]
    backward_logs = numpy.cumsum(onward[::-1], axis=0)[::-1]
    log_z = _safe_log(closing) + forward_logs[lengths - 1, numpy.arange(n_docs)]
    row = numpy.argsort(order)
    return Lattice(forward, forward_logs, backward, backward_logs, log_z[row], row)


def _normalize(rows: numpy.ndarray) -> numpy.ndarray:
    """Divide each row by its sum, in place, where the sum is not 0; the sums."""
    sums = rows.sum(axis=1)
    rows /= numpy.where(sums > 0, sums, 1.0)[:, None]
    return sums


def _safe_log(x: numpy.ndarray) -> numpy.ndarray:
    """log(x), with NEVER for log(0)."""
    with numpy.errstate(divide="ignore"):
        return numpy.maximum(numpy.log(x), NEVER)


def forward_backward(
    emissions: numpy.ndarray, lengths: numpy.ndarray, chain: ChainScores
) -> Marginals:
    """Log-partition and marginals of each doc's tag sequences, from the
    `lattice` of the padded `emissions`."""
    n_docs, n_steps, n_tags = emissions.shape
    scores = lattice(emissions, lengths, chain)
    alpha, beta, log_z = scores.all_alpha(), scores.all_beta(), scores.log_z
    live = numpy.arange(n_steps)[None, :] < lengths[:, None]
    moves = numpy.exp(chain.transitions)
    rows, last = numpy.arange(n_docs), lengths - 1
    tags = numpy.exp(numpy.minimum(alpha + beta - log_z[:, None, None], 0.0)) * live[:, :, None]
    feasible = log_z > NEVER / 2
    transitions = numpy.zeros((n_tags, n_tags))
    for t in range(1, n_steps):
        docs = live[:, t] & feasible
        if not docs.any():
            break
        before, before_peak = _rescaled(alpha[docs, t - 1])
        after, after_peak = _rescaled(emissions[docs, t] + beta[docs, t])
        weight = numpy.exp(before_peak + after_peak - log_z[docs])
        transitions += (before * weight[:, None]).T @ after
    return Marginals(
        log_z=log_z,
        tags=tags,
        transitions=transitions * moves,
        start=tags[:, 0].sum(axis=0),
        end=tags[rows, last].sum(axis=0),
    )


def _rescaled(scores: numpy.ndarray):
    """exp(scores) with each row divided by its largest entry, and the log of
    that entry."""
    peak = scores.max(axis=1)
    return numpy.exp(scores - peak[:, None]), peak


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
