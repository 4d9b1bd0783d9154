"""Constrained Viterbi decoding of a batch's potentials."""

from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy

from .potentials import NEVER, Potentials
from .tagset import Entity, TagSet


class BestPaths(NamedTuple):
    """A batch's potentials and the best valid tag path of each doc, over the
    tags the component may predict: a label added after training is left out
    until an update has shown it an example."""

    potentials: Potentials  # over `tagset`'s tags, temperature 1
    tag_ids: List[numpy.ndarray]  # indices into `tagset.tags`
    entities: List[List[Entity]]
    tagset: TagSet
    tag_index: Optional[numpy.ndarray]  # each tag's id in the component's tags; None: the same


def best_paths(potentials: Potentials) -> List[numpy.ndarray]:
    """The tag ids of each doc's highest-scoring path among those the chain
    allows. Where every allowed move scores 0 (the softmax head) and a doc's
    per-token best tags make an allowed path, they are that path: Viterbi runs
    on the other docs only."""
    lengths = potentials.lengths
    if not len(lengths):
        return []
    if not potentials.per_token:
        return viterbi(potentials)
    best = potentials.emissions.argmax(axis=1)
    bounds = numpy.cumsum(lengths).tolist()
    paths = [best[stop - length : stop] for stop, length in zip(bounds, lengths.tolist())]
    invalid = numpy.flatnonzero(~_allowed_paths(best, lengths, potentials))
    for i, path in zip(invalid.tolist(), viterbi(potentials.select(invalid))):
        paths[i] = path
    return paths


def _allowed_paths(
    flat: numpy.ndarray, lengths: numpy.ndarray, potentials: Potentials
) -> numpy.ndarray:
    """Which docs' paths, concatenated in `flat`, the chain allows; an empty
    doc's path is allowed."""
    start, allowed, end = potentials.allowed()
    bounds = numpy.cumsum(lengths)
    firsts, lasts = (bounds - lengths)[lengths > 0], bounds[lengths > 0] - 1
    moves = allowed[flat[:-1], flat[1:]]
    moves[lasts[:-1]] = True
    doc_of = numpy.repeat(numpy.arange(len(lengths)), lengths)
    valid = numpy.ones(len(lengths), dtype=bool)
    valid[doc_of[numpy.flatnonzero(~moves)]] = False
    valid[doc_of[firsts]] &= start[flat[firsts]] & end[flat[lasts]]
    return valid


def viterbi(potentials: Potentials) -> List[numpy.ndarray]:
    """The best path of every doc under the potentials, in float32. Under a
    per-token chain, each tag's best predecessor is the best of the tags that
    may precede it; under a learned one, of every tag plus the move's score."""
    start, transitions, end = (values.astype("float32") for values in potentials.chain)
    step = (
        _masked_step(potentials.allowed().transitions)
        if potentials.per_token
        else _chain_step(transitions)
    )
    return _decode(potentials, start, end, step)


def _masked_step(allowed: numpy.ndarray) -> Callable:
    never = numpy.float32(NEVER)
    predecessors, group_of = _predecessor_groups(allowed)
    groups, n_tags = numpy.arange(len(predecessors)), allowed.shape[0]

    def step(best: numpy.ndarray, backpointers: numpy.ndarray) -> numpy.ndarray:
        extended = numpy.empty((len(best), n_tags + 1), dtype=best.dtype)
        extended[:, :n_tags], extended[:, n_tags] = best, never
        candidates = extended[:, predecessors]
        backpointers[:] = predecessors[groups, candidates.argmax(axis=2)][:, group_of]
        return candidates.max(axis=2)[:, group_of]

    return step


def _chain_step(transitions: numpy.ndarray) -> Callable:
    def step(best: numpy.ndarray, backpointers: numpy.ndarray) -> numpy.ndarray:
        candidates = best[:, :, None] + transitions
        backpointers[:] = candidates.argmax(axis=1)
        return numpy.take_along_axis(candidates, backpointers[:, None, :].astype("intp"), axis=1)[
            :, 0
        ]

    return step


def _decode(potentials: Potentials, start_scores, end_scores, step) -> List[numpy.ndarray]:
    """Run `step(best, backpointers)` over the docs sorted longest first, on
    the docs still going at each position, then read the paths back."""
    lengths = potentials.lengths
    n_docs, n_tags = len(lengths), len(start_scores)
    n_steps = int(lengths.max(initial=0))
    if n_steps == 0:
        return [numpy.zeros((0,), dtype="int64") for _ in range(n_docs)]
    order = potentials.longest_first()
    padded = potentials.padded(order).astype("float32", copy=False)
    running = numpy.searchsorted(-lengths[order], -numpy.arange(n_steps), side="left")
    best = padded[:, 0] + start_scores
    backpointers = numpy.empty((n_docs, n_steps, n_tags), dtype=numpy.min_scalar_type(n_tags))
    backpointers[:] = numpy.arange(n_tags)
    for t in range(1, n_steps):
        k = running[t]
        best[:k] = step(best[:k], backpointers[:k, t]) + padded[:k, t]
    best += end_scores
    rows = numpy.arange(n_docs)
    path = numpy.empty((n_docs, n_steps), dtype="int64")
    path[:, -1] = best.argmax(axis=1)
    for t in range(n_steps - 1, 0, -1):
        path[:, t - 1] = backpointers[rows, t, path[:, t]]
    paths: List[numpy.ndarray] = [None] * n_docs  # type: ignore[list-item]
    for row, i in enumerate(order):
        paths[i] = path[row, : lengths[i]]
    return paths


def _predecessor_groups(allowed: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Tags that may follow the same set of tags share one max over that set
    at each step: each such set as a row of tag ids, padded with the id
    n_tags (a tag no path takes), and the row of each tag."""
    groups: Dict[bytes, int] = {}
    group_of = numpy.array(
        [groups.setdefault(allowed[:, j].tobytes(), len(groups)) for j in range(allowed.shape[1])]
    )
    members = [numpy.flatnonzero(allowed[:, group_of == g][:, 0]) for g in range(len(groups))]
    predecessors = numpy.full((len(members), max(len(m) for m in members)), allowed.shape[0])
    for g, group in enumerate(members):
        predecessors[g, : len(group)] = group
    return predecessors, group_of
