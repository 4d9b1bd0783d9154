"""Entity probabilities: the probability, under the model, that a span of tokens
carries exactly an entity's tags. Both heads define a distribution over the
valid tag sequences of a doc (the CRF by its scores, the softmax head by the
product of its per-token probabilities, renormalized over valid sequences); a
span's probability is the total weight of the sequences that spell that entity
there, read off the forward and backward log-scores of the lattice."""

from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy

from .lattice import Lattice, lattice
from .potentials import NEVER, Potentials
from .tagset import Entity, TagSet


class ScoredSpans(NamedTuple):
    """One doc's scored spans: (start, end, label) token offsets and probabilities."""

    offsets: List[Entity]
    scores: numpy.ndarray  # float64, aligned with `offsets`


def score_entities(
    potentials: Potentials,
    paths: Sequence[numpy.ndarray],
    predicted: Sequence[List[Entity]],
    tagset: TagSet,
    threshold: Optional[float] = None,
) -> List[ScoredSpans]:
    """The probability of each entity that each doc's tag path spells (the
    `predicted` offsets, from `TagSet.entities`), and, with a `threshold`, of
    every other span whose probability reaches it."""
    padded, lengths, chain = potentials.padded(), potentials.lengths, potentials.chain
    entities = _flat_entities(predicted)
    keep = _entity_bounds(*entities, lengths) if threshold is None else None
    scores = lattice(padded, lengths, chain, dtype="float32", keep=keep)
    log_probs = _path_entity_log_probs(padded, lengths, scores, chain, paths, entities, tagset)
    bounds = numpy.cumsum([0] + [len(offsets) for offsets in predicted]).tolist()
    if threshold is None:
        probs = _probability(log_probs)
        return [
            ScoredSpans(offsets, probs[start:end])
            for offsets, start, end in zip(predicted, bounds[:-1], bounds[1:])
        ]
    log_probs = [log_probs[start:end] for start, end in zip(bounds[:-1], bounds[1:])]
    found = [
        dict(zip(doc_offsets, doc_log_probs))
        for doc_offsets, doc_log_probs in zip(predicted, log_probs)
    ]
    for i, offsets, log_prob in _spans_above(
        padded, lengths, scores, chain, tagset, numpy.log(threshold)
    ):
        found[i].setdefault(offsets, log_prob)
    result = []
    for doc_found in found:
        offsets = sorted(doc_found)
        result.append(
            ScoredSpans(offsets, _probability(numpy.array([doc_found[span] for span in offsets])))
        )
    return result


def _probability(log_prob: numpy.ndarray) -> numpy.ndarray:
    return numpy.exp(numpy.minimum(log_prob, 0.0)).astype("float64")


def _flat_entities(predicted) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """The doc, first token and last token of every entity, all docs together."""
    flat = [(i, start, end - 1) for i, offsets in enumerate(predicted) for start, end, _ in offsets]
    return tuple(numpy.array(flat, dtype="int64").reshape(-1, 3).T)


def _entity_bounds(doc, start, last, lengths) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(docs, steps) where an entity's probability reads the lattice: its
    first token, its last, and the token after it (its last at a doc's end)."""
    following = numpy.minimum(last + 1, lengths[doc] - 1)
    return numpy.tile(doc, 3), numpy.concatenate([start, last, following])


def _path_entity_log_probs(
    padded, lengths, scores: Lattice, chain, paths, entities, tagset: TagSet
) -> numpy.ndarray:
    """Log-probability of each entity of the docs' paths (`entities`, all
    docs' together, from `_flat_entities`): the forward score of
    its first tag, the path's own scores inside it, and the backward score of
    all that may follow it without extending it."""
    n_docs, n_steps, _ = padded.shape
    path = numpy.zeros((n_docs, n_steps), dtype="int64")
    for i, doc_path in enumerate(paths):
        path[i, : len(doc_path)] = doc_path
    steps = numpy.take_along_axis(padded, path[:, :, None], axis=2)[:, :, 0].astype("float64")
    steps[:, 1:] += chain.transitions[path[:, :-1], path[:, 1:]]
    running = numpy.cumsum(steps, axis=1)
    doc, start, end = entities
    if not len(doc):
        return numpy.zeros((0,))
    first, last = path[doc, start], path[doc, end]
    log_prob = (
        scores.alpha(doc, start, first)
        + running[doc, end]
        - running[doc, start]
        - scores.log_z[doc]
    )
    if tagset.scheme == "BILUO":
        log_prob += scores.beta(doc, end, last)
    else:
        inside = tagset.inside[first]
        log_prob += _iob_close(padded, lengths, scores, chain, doc, end, last, inside)
    return log_prob


def _iob_close(
    padded, lengths, scores: Lattice, chain, doc, position, tag, inside
) -> numpy.ndarray:
    """Log-sum of the paths from `tag` at `position` to the end whose next tag
    is not `inside`, i.e. that do not run the entity on."""
    at_end = position + 1 >= lengths[doc]
    following = numpy.minimum(position + 1, lengths[doc] - 1)
    onward = chain.transitions[tag] + padded[doc, following] + scores.beta(doc, following)
    onward[numpy.arange(len(doc)), inside] = NEVER
    peak = onward.max(axis=1)
    closed = peak + numpy.log(numpy.exp(onward - peak[:, None]).sum(axis=1))
    return numpy.where(at_end, chain.end[tag], closed)


def _spans_above(padded, lengths, scores: Lattice, chain, tagset: TagSet, log_threshold):
    """(doc, (start, end, label), log-probability) of every span whose
    probability reaches exp(log_threshold): every start and label at once,
    growing the spans a token at a time while their prefix's probability, a
    bound on theirs, still reaches it."""
    labels, scheme = tagset.labels, tagset.scheme
    b, i_ = tagset.ids("B"), tagset.ids("I")
    doc, start = numpy.nonzero(numpy.arange(padded.shape[1])[None, :] < lengths[:, None])
    doc, start = numpy.repeat(doc, len(labels)), numpy.repeat(start, len(labels))
    label = numpy.tile(numpy.arange(len(labels)), len(doc) // max(len(labels), 1))
    log_z = scores.log_z[doc]
    if scheme == "BILUO":
        u, last = tagset.ids("U"), tagset.ids("L")
        yield from _found(
            doc,
            start,
            start + 1,
            label,
            scores.alpha(doc, start, u[label]) + scores.beta(doc, start, u[label]) - log_z,
            labels,
            log_threshold,
        )
    run = scores.alpha(doc, start, b[label])
    previous = b[label]
    bound = run + scores.beta(doc, start, previous) - log_z
    end = start
    while True:
        if scheme == "IOB":
            close = _iob_close(padded, lengths, scores, chain, doc, end, previous, i_[label])
            yield from _found(
                doc, start, end + 1, label, run + close - log_z, labels, log_threshold
            )
        alive = (bound >= log_threshold) & (end + 1 < lengths[doc])
        if not alive.any():
            return
        doc, start, end, label, run, previous, log_z = (
            values[alive] for values in (doc, start, end + 1, label, run, previous, log_z)
        )
        if scheme == "BILUO":
            closing = last[label]
            log_prob = (
                run
                + chain.transitions[previous, closing]
                + padded[doc, end, closing]
                + scores.beta(doc, end, closing)
                - log_z
            )
            yield from _found(doc, start, end + 1, label, log_prob, labels, log_threshold)
        run = run + chain.transitions[previous, i_[label]] + padded[doc, end, i_[label]]
        previous = i_[label]
        bound = run + scores.beta(doc, end, previous) - log_z


def _found(doc, start, end, label, log_prob, labels, log_threshold):
    for k in numpy.flatnonzero(log_prob >= log_threshold):
        yield int(doc[k]), (int(start[k]), int(end[k]), labels[label[k]]), float(log_prob[k])
