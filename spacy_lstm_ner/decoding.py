"""Constrained Viterbi decoding of per-token tag scores, batched over docs."""
from typing import Dict, List, Sequence, Tuple

import numpy


def viterbi_decode(
    scores: Sequence[numpy.ndarray],
    start: numpy.ndarray,
    allowed: numpy.ndarray,
    end: numpy.ndarray,
) -> List[numpy.ndarray]:
    """Best tag sequence for each (n_tokens, n_tags) score matrix among the
    sequences the masks allow: `start[j]` may open a doc, `allowed[i, j]`
    may follow tag i, `end[j]` may close a doc. Scores add up along a path, so
    log-probabilities give the most probable valid sequence."""
    lengths = numpy.array([len(doc_scores) for doc_scores in scores], dtype="int64")
    n_docs, n_tags = len(scores), len(start)
    n_steps = int(lengths.max(initial=0))
    if n_steps == 0:
        return [numpy.zeros((0,), dtype="int64") for _ in scores]
    order = numpy.argsort(-lengths, kind="stable")
    padded = numpy.zeros((n_docs, n_steps, n_tags), dtype="float32")
    for row, i in enumerate(order):
        padded[row, : lengths[i]] = scores[i]
    # Docs sorted longest first: at step t, the first `running[t]` are still going.
    running = numpy.searchsorted(-lengths[order], -numpy.arange(n_steps), side="left")
    never = numpy.float32(-numpy.inf)
    groups = _predecessor_groups(allowed)
    best = padded[:, 0] + numpy.where(start, numpy.float32(0.0), never)
    backpointers = numpy.empty((n_docs, n_steps, n_tags), dtype="int32")
    backpointers[:] = numpy.arange(n_tags)
    rows = numpy.arange(n_docs)
    for t in range(1, n_steps):
        k = running[t]
        stepped = numpy.empty((k, n_tags), dtype="float32")
        for predecessors, successors in groups:
            candidates = best[:k, predecessors]
            choice = candidates.argmax(axis=1)
            stepped[:, successors] = candidates[rows[:k], choice][:, None]
            backpointers[:k, t, successors] = predecessors[choice][:, None]
        best[:k] = stepped + padded[:k, t]
    best += numpy.where(end, numpy.float32(0.0), never)
    path = numpy.empty((n_docs, n_steps), dtype="int64")
    path[:, -1] = best.argmax(axis=1)
    for t in range(n_steps - 1, 0, -1):
        path[:, t - 1] = backpointers[rows, t, path[:, t]]
    paths: List[numpy.ndarray] = [None] * n_docs  # type: ignore[list-item]
    for row, i in enumerate(order):
        paths[i] = path[row, : lengths[i]]
    return paths


def _predecessor_groups(allowed: numpy.ndarray) -> List[Tuple[numpy.ndarray, numpy.ndarray]]:
    """(predecessors, successors) pairs: tags that may follow the same set of
    tags share one max over that set at each step."""
    groups: Dict[bytes, List[int]] = {}
    for j in range(allowed.shape[1]):
        groups.setdefault(allowed[:, j].tobytes(), []).append(j)
    return [
        (numpy.flatnonzero(allowed[:, successors[0]]), numpy.array(successors))
        for successors in groups.values()
    ]
