"""Constrained Viterbi decoding of per-token tag scores, batched over docs."""

from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy
from thinc.backends import get_array_ops

from .lattice import NEVER, ChainScores, forbid_entity_starts, restrict_to_scheme
from .layers.crf import CRFOutput
from .tags import placeholder_tags, transition_mask


class BestPaths(NamedTuple):
    """The model's scores for a batch and the best valid tag path of each doc,
    over the tags it may predict: a label added after training is left out
    until an update has shown it an example."""

    scores: object  # the model's output, over `tags`
    spaces: List[numpy.ndarray]  # which tokens are whitespace, per doc
    tag_ids: List[numpy.ndarray]  # indices into `tags`
    entities: List[List[Tuple[int, int, str]]]
    tags: Tuple[str, ...]
    tag_index: Optional[
        numpy.ndarray
    ]  # each of `tags`' index in the component's tags; None: the same


def softmax_decode(
    log_probs: Sequence[numpy.ndarray], scheme: str, no_entity_start: Sequence[numpy.ndarray]
) -> List[numpy.ndarray]:
    """Tag ids of the most probable valid tag sequence of each doc under its
    per-token log-probabilities, with no entity opening on a token where
    `no_entity_start[i]` is True. Where a doc's per-token best tags make a
    valid sequence, they are that sequence: Viterbi runs on the other docs."""
    if not log_probs:
        return []
    flat, lengths = _decodable_flat(log_probs, scheme, no_entity_start)
    start, allowed, end = transition_mask(placeholder_tags(flat.shape[1], scheme), scheme)
    best = flat.argmax(axis=1)
    paths, scores = _per_doc(best, lengths), _per_doc(flat, lengths)
    invalid = numpy.flatnonzero(~_valid_paths(best, lengths, start, allowed, end)).tolist()
    for i, path in zip(invalid, viterbi_decode([scores[i] for i in invalid], start, allowed, end)):
        paths[i] = path
    return paths


def _valid_paths(
    flat: numpy.ndarray,
    lengths: numpy.ndarray,
    start: numpy.ndarray,
    allowed: numpy.ndarray,
    end: numpy.ndarray,
) -> numpy.ndarray:
    """Which docs' paths, concatenated in `flat`, the masks allow (see
    `viterbi_decode`); an empty doc's path is valid."""
    bounds = numpy.cumsum(lengths)
    firsts, lasts = (bounds - lengths)[lengths > 0], bounds[lengths > 0] - 1
    moves = allowed[flat[:-1], flat[1:]]
    moves[lasts[:-1]] = True
    doc_of = numpy.repeat(numpy.arange(len(lengths)), lengths)
    valid = numpy.ones(len(lengths), dtype=bool)
    valid[doc_of[numpy.flatnonzero(~moves)]] = False
    valid[doc_of[firsts]] &= start[flat[firsts]] & end[flat[lasts]]
    return valid


def decodable_scores(
    scores: Sequence, scheme: str, no_entity_start: Sequence[numpy.ndarray]
) -> List[numpy.ndarray]:
    """float32 numpy copies of non-empty per-doc (n_tokens, n_tags) scores, on
    any device, with every tag that opens an entity ruled out on the tokens
    where `no_entity_start[i]` is True."""
    return _per_doc(*_decodable_flat(scores, scheme, no_entity_start))


def _per_doc(flat: numpy.ndarray, lengths: numpy.ndarray) -> List[numpy.ndarray]:
    """Views of `flat`, the docs' rows concatenated, one per doc."""
    bounds = numpy.cumsum(lengths).tolist()
    return [flat[stop - length : stop] for stop, length in zip(bounds, lengths.tolist())]


def _decodable_flat(
    scores: Sequence, scheme: str, no_entity_start: Sequence[numpy.ndarray]
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """`decodable_scores` concatenated into one array, and the docs' lengths."""
    ops = get_array_ops(scores[0])
    lengths = numpy.array([len(doc_scores) for doc_scores in scores], dtype="int64")
    flat = ops.to_numpy(ops.xp.concatenate(list(scores))).astype(
        "float32", copy=False
    )  # a new array
    return forbid_entity_starts(flat, numpy.concatenate(no_entity_start), scheme), lengths


def crf_decode(
    output: CRFOutput, scheme: str, no_entity_start: Sequence[numpy.ndarray]
) -> List[numpy.ndarray]:
    """Tag ids of the best valid tag sequence of each doc under the CRF, with
    no entity opening on a token where `no_entity_start[i]` is True."""
    if not output.emissions:
        return []
    emissions = decodable_scores(output.emissions, scheme, no_entity_start)
    return crf_viterbi_decode(emissions, restrict_to_scheme(output.chain, scheme))


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
    never = numpy.float32(NEVER)
    predecessors, group_of = _predecessor_groups(allowed)
    groups, n_tags = numpy.arange(len(predecessors)), len(start)

    def step(best: numpy.ndarray, backpointers: numpy.ndarray) -> numpy.ndarray:
        extended = numpy.empty((len(best), n_tags + 1), dtype=best.dtype)
        extended[:, :n_tags], extended[:, n_tags] = best, never
        candidates = extended[:, predecessors]
        backpointers[:] = predecessors[groups, candidates.argmax(axis=2)][:, group_of]
        return candidates.max(axis=2)[:, group_of]

    return decode_paths(
        scores,
        numpy.where(start, numpy.float32(0.0), never),
        numpy.where(end, numpy.float32(0.0), never),
        step,
    )


def crf_viterbi_decode(scores: Sequence[numpy.ndarray], chain: ChainScores) -> List[numpy.ndarray]:
    """Best tag sequence for each emission matrix under start, transition and
    end scores (forbidden moves set to NEVER)."""
    transitions = chain.transitions.astype("float32")

    def step(best: numpy.ndarray, backpointers: numpy.ndarray) -> numpy.ndarray:
        candidates = best[:, :, None] + transitions
        backpointers[:] = candidates.argmax(axis=1)
        return numpy.take_along_axis(candidates, backpointers[:, None, :].astype("intp"), axis=1)[
            :, 0
        ]

    return decode_paths(scores, chain.start.astype("float32"), chain.end.astype("float32"), step)


def decode_paths(scores, start_scores, end_scores, step) -> List[numpy.ndarray]:
    """Run `step(best, backpointers)` over the docs sorted longest first, on
    the docs still going at each position, then read the paths back."""
    lengths = numpy.array([len(doc_scores) for doc_scores in scores], dtype="int64")
    n_docs, n_tags = len(scores), len(start_scores)
    n_steps = int(lengths.max(initial=0))
    if n_steps == 0:
        return [numpy.zeros((0,), dtype="int64") for _ in scores]
    order = numpy.argsort(-lengths, kind="stable")
    if n_docs == 1:  # a long doc: no padded copy
        padded = numpy.asarray(scores[0], dtype="float32")[None]
    else:
        padded = numpy.zeros((n_docs, n_steps, n_tags), dtype="float32")
        for row, i in enumerate(order):
            padded[row, : lengths[i]] = scores[i]
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
