"""Linear-chain CRF over tag sequences: log-partition and marginals by the
forward-backward algorithm, batched over docs, float64: scores are kept as
logs, each step's sum over tags is a matrix product of rescaled exponentials."""
from typing import List, NamedTuple, Sequence

import numpy

# Stands for log(0) where a path is forbidden; finite, so forbidden paths
# give exp(...) == 0 rather than NaN.
NEVER = -1e30


class ChainScores(NamedTuple):
    """Learned transition scores, with forbidden moves already set to NEVER."""

    start: numpy.ndarray  # (n_tags,) score of opening a doc with each tag
    transitions: numpy.ndarray  # (n_tags, n_tags) score of tag i → tag j
    end: numpy.ndarray  # (n_tags,) score of closing a doc with each tag


class Marginals(NamedTuple):
    log_z: numpy.ndarray  # (n_docs,) log-partition of each doc
    tags: numpy.ndarray  # (n_docs, n_steps, n_tags) P(tag j at t); 0 on padding
    transitions: numpy.ndarray  # (n_tags, n_tags) expected i → j count, summed over docs
    start: numpy.ndarray  # (n_tags,) expected opening-tag count, summed over docs
    end: numpy.ndarray  # (n_tags,) expected closing-tag count, summed over docs


def restrict(
    start: numpy.ndarray,
    transitions: numpy.ndarray,
    end: numpy.ndarray,
    valid_start: numpy.ndarray,
    valid: numpy.ndarray,
    valid_end: numpy.ndarray,
) -> ChainScores:
    """Learned scores as float64, with the moves the tag scheme forbids set to NEVER."""
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


def forward_backward(
    emissions: numpy.ndarray, lengths: numpy.ndarray, chain: ChainScores
) -> Marginals:
    """Log-partition and marginals of each doc's tag sequence. `emissions` is
    padded (n_docs, n_steps, n_tags); a path's score is the sum of its start,
    emission, transition and end scores. Every doc must have at least one token;
    restrict a doc's paths by setting emissions to NEVER. A doc left with no
    path has log_z below NEVER / 2 and meaningless marginals.

    Each step sums over the previous tag with a matrix product in probability
    space, rescaled per doc by its running maximum, instead of a log-sum-exp
    over an (n_docs, n_tags, n_tags) array."""
    n_docs, n_steps, n_tags = emissions.shape
    steps = numpy.arange(n_steps)
    live = steps[None, :] < lengths[:, None]
    last = lengths - 1
    moves = numpy.exp(chain.transitions)
    alpha = numpy.empty_like(emissions)
    alpha[:, 0] = chain.start + emissions[:, 0]
    for t in range(1, n_steps):
        stepped = _log_matmul(alpha[:, t - 1], moves) + emissions[:, t]
        alpha[:, t] = numpy.where(live[:, t, None], stepped, alpha[:, t - 1])
    rows = numpy.arange(n_docs)
    log_z = _logsumexp(alpha[rows, last] + chain.end, axis=1)
    beta = numpy.empty_like(emissions)
    beta[:, n_steps - 1] = chain.end
    for t in range(n_steps - 2, -1, -1):
        stepped = _log_matmul(emissions[:, t + 1] + beta[:, t + 1], moves.T)
        beta[:, t] = numpy.where(live[:, t + 1, None], stepped, chain.end)
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


def _log_matmul(scores: numpy.ndarray, moves: numpy.ndarray) -> numpy.ndarray:
    """log(exp(scores) @ moves), row by row, with NEVER where it is log(0)."""
    weights, peak = _rescaled(scores)
    summed = weights @ moves
    with numpy.errstate(divide="ignore"):
        return numpy.where(summed > 0, numpy.log(summed) + peak[:, None], NEVER)


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


def _logsumexp(x: numpy.ndarray, axis: int) -> numpy.ndarray:
    peak = x.max(axis=axis, keepdims=True)
    return (peak + numpy.log(numpy.exp(x - peak).sum(axis=axis, keepdims=True))).squeeze(axis)
