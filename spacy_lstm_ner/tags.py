"""Tag schemes: the tag inventory for a label set and which tag sequences are valid."""

from functools import lru_cache
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.training.iob_utils import biluo_to_iob

SCHEMES = ("BILUO", "IOB")
OUT = "O"


def validate_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(
            f"Unknown tag scheme {scheme!r} for lstm_ner: choose one of {', '.join(SCHEMES)}."
        )
    return scheme


def tag_names(labels: Iterable[str], scheme: str) -> List[str]:
    """The tags of a scheme over entity labels, `O` first."""
    prefixes = "BILU" if validate_scheme(scheme) == "BILUO" else "BI"
    return [OUT] + [f"{prefix}-{label}" for label in labels for prefix in prefixes]


def from_biluo(tags: Sequence[Optional[str]], scheme: str) -> List[Optional[str]]:
    """Convert BILUO tags (None where missing) to `scheme`."""
    return list(tags) if scheme == "BILUO" else biluo_to_iob(tags)


def entity_offsets(tag_ids: Sequence[int], tags: Tuple[str, ...]) -> List[Tuple[int, int, str]]:
    """(start, end, label) token offsets of the entities a valid tag sequence spells,
    in either scheme: an entity opens at B or U and runs on over I and L."""
    return batch_entity_offsets([numpy.asarray(tag_ids, dtype="int64")], tags)[0]


def batch_entity_offsets(
    paths: Sequence[numpy.ndarray], tags: Tuple[str, ...]
) -> List[List[Tuple[int, int, str]]]:
    """`entity_offsets` of each doc's valid tag path, read off all paths at once."""
    lengths = numpy.array([len(path) for path in paths], dtype="int64")
    flat = numpy.concatenate(paths) if len(paths) else numpy.zeros((0,), dtype="int64")
    opens, runs_on, labels = _entity_parts(tags)
    doc_of = numpy.repeat(numpy.arange(len(paths)), lengths)
    continued = numpy.zeros(len(flat), dtype=bool)
    continued[:-1] = runs_on[flat[1:]]  # a valid path opens no doc with I or L
    starts = numpy.flatnonzero(opens[flat])
    ends = numpy.flatnonzero((opens | runs_on)[flat] & ~continued) + 1
    offsets = numpy.cumsum(lengths) - lengths
    docs = doc_of[starts]
    entities: List[List[Tuple[int, int, str]]] = [[] for _ in paths]
    for doc, start, end, label in zip(
        docs.tolist(),
        (starts - offsets[docs]).tolist(),
        (ends - offsets[docs]).tolist(),
        flat[starts].tolist(),
    ):
        entities[doc].append((start, end, labels[label]))
    return entities


@lru_cache(maxsize=32)
def _entity_parts(tags: Tuple[str, ...]) -> Tuple[numpy.ndarray, numpy.ndarray, List[str]]:
    """Per tag id: whether it opens an entity (B, U), whether it runs one on
    (I, L), and its label."""
    parts = _prefixes_and_labels(tags)
    opens = numpy.array([prefix in ("B", "U") for prefix, _ in parts])
    runs_on = numpy.array([prefix in ("I", "L") for prefix, _ in parts])
    return opens, runs_on, [label for _, label in parts]


@lru_cache(maxsize=32)
def _prefixes_and_labels(tags: Tuple[str, ...]) -> List[Tuple[str, str]]:
    return [_split(tag) for tag in tags]


def _split(tag: str) -> Tuple[str, str]:
    if tag == OUT:
        return OUT, ""
    prefix, label = tag.split("-", 1)
    return prefix, label


def _may_follow(prev: str, tag: str, scheme: str) -> bool:
    prev_prefix, prev_label = _split(prev)
    prefix, label = _split(tag)
    inside = prev_prefix in ("B", "I")
    if prefix in (("I", "L") if scheme == "BILUO" else ("I",)):
        return inside and label == prev_label
    return not (inside and scheme == "BILUO")


@lru_cache(maxsize=32)
def begin_mask(tags: Tuple[str, ...]) -> numpy.ndarray:
    """Which tags open an entity (B, U)."""
    return numpy.array([prefix in ("B", "U") for prefix, _ in _prefixes_and_labels(tags)])


@lru_cache(maxsize=32)
def placeholder_tags(n_tags: int, scheme: str) -> Tuple[str, ...]:
    """`n_tags` tags as `tag_names` makes them for some labels, with labels
    "0", "1", ...: which tags open an entity and which moves are valid depend
    only on the tags' positions, so this serves wherever the labels are unknown."""
    per_label = 4 if validate_scheme(scheme) == "BILUO" else 2
    if n_tags < 1 or (n_tags - 1) % per_label:
        raise ValueError(
            f"{n_tags} tag scores cannot be the {scheme} tags of a label set: "
            f"that takes 1 + {per_label} * (number of labels)."
        )
    return tuple(tag_names([str(i) for i in range((n_tags - 1) // per_label)], scheme))


@lru_cache(maxsize=32)
def transition_mask(
    tags: Tuple[str, ...], scheme: str
) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Boolean masks of valid (start, previous→next, end) tags for `scheme`."""
    prefixes = [prefix for prefix, _ in _prefixes_and_labels(tags)]
    if scheme == "BILUO":
        start = numpy.array([p in ("O", "B", "U") for p in prefixes])
        end = numpy.array([p in ("O", "L", "U") for p in prefixes])
    else:
        start = numpy.array([p in ("O", "B") for p in prefixes])
        end = numpy.ones(len(tags), dtype=bool)
    allowed = numpy.array([[_may_follow(a, b, scheme) for b in tags] for a in tags])
    return start, allowed, end
