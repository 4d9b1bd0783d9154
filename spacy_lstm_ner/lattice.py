"""The forward-backward algorithm over linear-chain tag lattices, batched over
docs, in float64: the log-partition, the marginals and the forward and backward
log-scores that the entity probabilities read. Scores are kept
as logs; each step's sum over tags is a matrix product of rescaled exponentials."""

from typing import List, NamedTuple, Optional, Tuple

import numpy

from .potentials import NEVER, ChainScores, Potentials


class Marginals(NamedTuple):
    log_z: numpy.ndarray  # (n_docs,) log-partition of each doc
    tags: numpy.ndarray  # (n_docs, n_steps, n_tags) P(tag j at t); 0 on padding
    transitions: numpy.ndarray  # (n_tags, n_tags) expected i → j count, summed over docs
    start: numpy.ndarray  # (n_tags,) expected opening-tag count, summed over docs
    end: numpy.ndarray  # (n_tags,) expected closing-tag count, summed over docs


class PointNotKept(LookupError):
    """A lattice built with `keep` was asked for a point it did not keep."""

    def __init__(self, doc: int, step: int):
        super().__init__(
            f"The lattice kept no forward and backward sums at doc {doc}, step {step}: "
            "pass that point in `keep` when building it, or leave `keep` out."
        )
        self.doc, self.step = doc, step


class Lattice:
    """Forward and backward sums over the tag paths of a padded batch of docs,
    kept rescaled; the log-scores are read off for the (doc, step, tag) asked for.
    Docs are stored longest first: `row[doc]` is a doc's row. Built with
    `keep`, it holds the sums at those points only, and reads no other."""

    def __init__(self, forward, forward_logs, backward, backward_logs, log_z, row, slot, complete):
        self.forward = (
            forward  # (n_kept + 1, n_tags), each live row summing to one; the last row spare
        )
        self.forward_logs = forward_logs  # (n_steps, n_docs) log of forward's scale
        self.backward = backward
        self.backward_logs = backward_logs
        self.log_z = log_z  # (n_docs,) log-partition of each doc, in the docs' order
        self.row = row
        self.slot = slot  # (n_steps, n_docs) row of forward and backward holding each (step, row); -1: not kept
        self.complete = complete  # every point kept, in step then row order

    def alpha(self, doc, step, tag=slice(None)) -> numpy.ndarray:
        """Log-sum of the scores of the paths from the start to `tag` at `step`."""
        return _safe_log(self.forward[self._slot(doc, step), tag]) + _last_axis(
            self.forward_logs[step, self.row[doc]], tag
        )

    def beta(self, doc, step, tag=slice(None)) -> numpy.ndarray:
        """Log-sum of the scores of the paths from `tag` at `step` to the end,
        that tag's emission excluded."""
        return _safe_log(self.backward[self._slot(doc, step), tag]) + _last_axis(
            self.backward_logs[step, self.row[doc]], tag
        )

    def all_alpha(self) -> numpy.ndarray:
        """alpha of every (doc, step, tag), (n_docs, n_steps, n_tags)."""
        return self._everywhere(self.forward, self.forward_logs)

    def all_beta(self) -> numpy.ndarray:
        return self._everywhere(self.backward, self.backward_logs)

    def _everywhere(self, values: numpy.ndarray, logs: numpy.ndarray) -> numpy.ndarray:
        if not self.complete:
            raise ValueError(
                "This lattice kept the sums at some points only: build it without `keep` to read them all."
            )
        logs = _safe_log(values[:-1].reshape(*self.slot.shape, -1)) + logs[:, :, None]
        return logs.transpose(1, 0, 2)[self.row]

    def _slot(self, doc, step):
        slot = self.slot[step, self.row[doc]]
        missing = numpy.flatnonzero(numpy.ravel(slot) < 0)
        if len(missing):
            doc, step = (
                numpy.ravel(values)[missing[0]] for values in numpy.broadcast_arrays(doc, step)
            )
            raise PointNotKept(int(doc), int(step))
        return slot


def _last_axis(logs: numpy.ndarray, tag) -> numpy.ndarray:
    return logs[..., None] if isinstance(tag, slice) else logs


def lattice(
    emissions: numpy.ndarray,
    lengths: numpy.ndarray,
    chain: ChainScores,
    dtype: str = "float64",
    keep: Optional[Tuple[numpy.ndarray, numpy.ndarray]] = None,
) -> Lattice:
    """The forward and backward sums over each doc's tag paths. `emissions`
    is padded (n_docs, n_steps, n_tags); a path's score is the sum of its
    start, emission, transition and end scores. Every doc must have at least
    one token; restrict a doc's paths by setting emissions to NEVER. A doc
    left with no path has log_z below NEVER / 2; NEVER stands for log(0).

    The sums run in probability space, in float64: each step is one matrix
    product of the sums so far with the exp of the step's emissions (less
    their largest, in the emissions' precision), rescaled to sum to one, and
    the logs of the scales and largest emissions add up on the side. The docs
    run longest first, each step on the docs that reach it. The sums are
    stored as `dtype` (float32 halves the memory: each stored value is then
    read with float32's precision, and errors do not add up along a doc):
    at every (doc, step), or, with `keep`, (docs, steps) arrays, only at
    those points, the only ones alpha and beta can then read."""
    n_docs, n_steps, n_tags = emissions.shape
    order = numpy.argsort(-lengths, kind="stable")
    row = numpy.argsort(order)
    lengths = lengths[order]
    reaching = numpy.searchsorted(-lengths, -numpy.arange(n_steps + 1), side="left").tolist()
    peaks = emissions.max(axis=2)[order].T
    weights = _StepWeights(emissions, order, peaks, reaching)
    slot, n_kept = _slots(n_steps, n_docs, None if keep is None else (keep[1], row[keep[0]]))
    kept = _kept_rows(slot, reaching, keep is None)
    moves, end = numpy.exp(chain.transitions), numpy.exp(chain.end)
    forward, forward_scale = (
        numpy.zeros((n_kept + 1, n_tags), dtype=dtype),
        numpy.ones((n_steps, n_docs)),
    )
    closing = numpy.zeros((n_docs,))
    current = numpy.exp(chain.start) * weights(0, reaching[0])
    for t in range(n_steps):
        k, finished = reaching[t], reaching[t + 1]
        if t:
            current = current[:k] @ moves
            current *= weights(t, k)
        forward_scale[t, :k] = _normalize(current)
        if kept[t] is not None:
            forward[slot[t, kept[t]]] = current[kept[t]]
        if finished < k:
            closing[finished:k] = current[finished:k] @ end
    backward, backward_scale = (
        numpy.zeros(forward.shape, dtype=dtype),
        numpy.ones((n_steps, n_docs)),
    )
    current = numpy.zeros((0, n_tags))
    for t in range(n_steps - 1, -1, -1):
        going_on, reach_t = reaching[t + 1], reaching[t]
        stepped = numpy.empty((reach_t, n_tags))
        stepped[going_on:] = end
        if going_on:
            onward = weights(t + 1, going_on) * current[:going_on]
            numpy.matmul(onward, moves.T, out=stepped[:going_on])
            backward_scale[t, :going_on] = _normalize(stepped[:going_on])
        if kept[t] is not None:
            backward[slot[t, kept[t]]] = stepped[kept[t]]
        current = stepped
    live = numpy.arange(n_steps)[:, None] < lengths[None, :]
    forward_logs = numpy.cumsum(_safe_log(forward_scale) + peaks, axis=0)
    onward = numpy.zeros((n_steps, n_docs))
    onward[:-1] = (_safe_log(backward_scale[:-1]) + peaks[1:]) * live[1:]
    backward_logs = numpy.cumsum(onward[::-1], axis=0)[::-1]
    log_z = _safe_log(closing) + forward_logs[lengths - 1, numpy.arange(n_docs)]
    return Lattice(
        forward, forward_logs, backward, backward_logs, log_z[row], row, slot, keep is None
    )


class _StepWeights:
    """`weights(t, k)`: exp(emission - peak) at step t of the k longest docs,
    (k, n_tags), in the emissions' precision; computed for a block of steps
    (about `rows` (step, doc) pairs) at a time, so no full-size copy is made."""

    def __init__(self, emissions, order, peaks, reaching, rows: int = 1 << 14):
        self.emissions, self.order, self.peaks, self.reaching = emissions, order, peaks, reaching
        self.size = max(1, rows // max(reaching[0], 1))
        self.start, self.block = 0, numpy.zeros((0, 0, 0))

    def __call__(self, t: int, k: int) -> numpy.ndarray:
        if not 0 <= t - self.start < len(self.block):
            self._fill(t - t % self.size)
        return self.block[t - self.start, :k]

    def _fill(self, start: int) -> None:
        stop, docs = start + self.size, self.order[: self.reaching[start]]
        values = self.emissions.transpose(1, 0, 2)[start:stop, docs]
        values -= self.peaks[start:stop, : len(docs), None]
        self.start, self.block = start, numpy.exp(values, out=values)


def _slots(
    n_steps: int, n_docs: int, points: Optional[Tuple[numpy.ndarray, numpy.ndarray]]
) -> Tuple[numpy.ndarray, int]:
    """Where the sums at each (step, row) are stored, (n_steps, n_docs): the
    index of each of `points` (every point if None), -1 where not kept (those
    sums go to a spare row after the kept ones); the number kept."""
    if points is None:
        return numpy.arange(n_steps * n_docs).reshape(n_steps, n_docs), n_steps * n_docs
    steps, rows = (numpy.asarray(values, dtype="int64") for values in points)
    slot = numpy.full((n_steps, n_docs), -1)
    slot[steps, rows] = numpy.arange(len(steps))
    return slot, len(steps)


def _kept_rows(slot: numpy.ndarray, reaching: List[int], complete: bool) -> List:
    """For each step, which of its rows' sums are stored (a slice, or an array
    of rows), None where no row is."""
    if complete:
        return [slice(0, k) for k in reaching[:-1]]
    steps, rows = numpy.nonzero(slot >= 0)
    bounds = numpy.searchsorted(steps, numpy.arange(len(slot) + 1)).tolist()
    return [rows[a:b] if b > a else None for a, b in zip(bounds[:-1], bounds[1:])]


# A row that sums to less than this (exactly 0: an infeasible doc) is left as it is.
_TINY = numpy.finfo("float64").tiny


def _normalize(rows: numpy.ndarray) -> numpy.ndarray:
    """Divide each row by its sum, in place, where the sum is not 0; the sums
    (a matrix-vector product: far faster than numpy's sum over short rows)."""
    sums = rows @ numpy.ones(rows.shape[1])
    rows /= numpy.maximum(sums, _TINY)[:, None]
    return sums


def _safe_log(x: numpy.ndarray) -> numpy.ndarray:
    """log(x), with NEVER for log(0)."""
    with numpy.errstate(divide="ignore"):
        return numpy.maximum(numpy.log(x), NEVER)


def forward_backward(potentials: Potentials) -> Marginals:
    """Log-partition and marginals of each doc's tag sequences, from the
    `lattice` of the potentials."""
    emissions, lengths, chain = potentials.padded().astype("float64"), *potentials[1:]
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
