"""The tag set of a component: its tag strings and their parsing, the moves its
scheme allows, the rule that no entity opens on whitespace, and the batch of
model scores these make into `Potentials`."""

from functools import cached_property
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.training.iob_utils import biluo_to_iob
from thinc.backends import get_array_ops

from .potentials import NEVER, ChainScores, Potentials

SCHEMES = ("BILUO", "IOB")
OUT = "O"
Entity = Tuple[int, int, str]  # (start, end, label) token offsets


def validate_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(
            f"Unknown tag scheme {scheme!r} for lstm_ner: choose one of {', '.join(SCHEMES)}."
        )
    return scheme


def parse_tag(tag: str) -> Tuple[str, str]:
    """(prefix, label) of a tag: ("B", "PER") for "B-PER", ("O", "") for "O"."""
    if tag == OUT:
        return OUT, ""
    prefix, label = tag.split("-", 1)
    return prefix, label


class TagSet:
    """The tags of `labels` in `scheme` (BILUO or IOB), `O` first, then each
    label's tags in prefix order. Which tag opens an entity and which moves are
    valid depend only on a tag's position, so `TagSet.of_size` serves where
    only the number of tags is known."""

    def __init__(self, labels: Iterable[str], scheme: str = "BILUO"):
        self.labels: Tuple[str, ...] = tuple(labels)
        self.scheme = validate_scheme(scheme)
        self.prefixes = "BILU" if scheme == "BILUO" else "BI"
        self.tags: Tuple[str, ...] = (OUT,) + tuple(
            f"{prefix}-{label}" for label in self.labels for prefix in self.prefixes
        )
        self.index: Dict[str, int] = {tag: i for i, tag in enumerate(self.tags)}

    @classmethod
    def of_size(cls, n_tags: int, scheme: str) -> "TagSet":
        """A tag set of `n_tags` tags with labels "0", "1", ..."""
        per_label = 4 if validate_scheme(scheme) == "BILUO" else 2
        if n_tags < 1 or (n_tags - 1) % per_label:
            raise ValueError(
                f"{n_tags} tag scores cannot be the {scheme} tags of a label set: "
                f"that takes 1 + {per_label} * (number of labels)."
            )
        return cls([str(i) for i in range((n_tags - 1) // per_label)], scheme)

    def __len__(self) -> int:
        return len(self.tags)

    def __eq__(self, other) -> bool:
        return isinstance(other, TagSet) and (self.labels, self.scheme) == (
            other.labels,
            other.scheme,
        )

    def __hash__(self) -> int:
        return hash((self.labels, self.scheme))

    def __repr__(self) -> str:
        return f"TagSet({list(self.labels)!r}, {self.scheme!r})"

    def ids(self, prefix: str) -> numpy.ndarray:
        """The id of each label's `prefix` tag, in label order."""
        return numpy.array(
            [self.index[f"{prefix}-{label}"] for label in self.labels], dtype="int64"
        )

    def without(self, labels: Iterable[str]) -> Tuple["TagSet", numpy.ndarray]:
        """The tag set less `labels`, and each of its tags' id in this one."""
        left = set(labels)
        kept = TagSet([label for label in self.labels if label not in left], self.scheme)
        return kept, kept.positions_in(self)

    def positions_in(self, other: "TagSet") -> numpy.ndarray:
        """Each of this set's tags' id in `other`, which must hold them all."""
        missing: List[str] = [tag for tag in self.tags if tag not in other.index]
        if missing:
            raise ValueError(f"The tag set {other!r} lacks the tags {missing}.")
        return numpy.array([other.index[tag] for tag in self.tags], dtype="int64")

    # Parsing gold tags.

    def gold_ids(self, biluo: Sequence[Optional[str]]) -> Tuple[numpy.ndarray, List[str]]:
        """The id of each token's tag, given as BILUO (None or "-" where
        missing, -1 there), in this set's scheme; and the tags not in the set."""
        tags = list(biluo) if self.scheme == "BILUO" else biluo_to_iob(list(biluo))
        ids = numpy.full((len(tags),), -1, dtype="int64")
        unknown = []
        for i, tag in enumerate(tags):
            if tag is None or tag == "-":
                continue
            if tag not in self.index:
                unknown.append(tag)
                continue
            ids[i] = self.index[tag]
        return ids, unknown

    # What the scheme allows.

    @cached_property
    def _prefix_of(self) -> List[str]:
        return [parse_tag(tag)[0] for tag in self.tags]

    @cached_property
    def opens(self) -> numpy.ndarray:
        """Which tags open an entity (B, U)."""
        return numpy.array([prefix in ("B", "U") for prefix in self._prefix_of])

    @cached_property
    def runs_on(self) -> numpy.ndarray:
        """Which tags run an entity on (I, L)."""
        return numpy.array([prefix in ("I", "L") for prefix in self._prefix_of])

    @cached_property
    def label_ids(self) -> numpy.ndarray:
        """Each tag's label as an index into `labels`; -1 for O."""
        return numpy.array([-1] + [i for i in range(len(self.labels)) for _ in self.prefixes])

    @cached_property
    def inside(self) -> numpy.ndarray:
        """For each tag, the id of its label's I tag (0 for O)."""
        inside_ids = numpy.concatenate([[0], self.ids("I")])
        return inside_ids[self.label_ids + 1]

    @cached_property
    def mask(self) -> ChainScores:
        """Boolean masks of the valid (start, previous → next, end) tags."""
        prefixes = self._prefix_of
        if self.scheme == "BILUO":
            start = numpy.array([p in ("O", "B", "U") for p in prefixes])
            end = numpy.array([p in ("O", "L", "U") for p in prefixes])
            continuing = ("I", "L")
        else:
            start = numpy.array([p in ("O", "B") for p in prefixes])
            end = numpy.ones(len(self), dtype=bool)
            continuing = ("I",)
        inside = numpy.array([p in ("B", "I") for p in prefixes])
        same_label = self.label_ids[:, None] == self.label_ids[None, :]
        continues = numpy.array([p in continuing for p in prefixes])
        allowed = numpy.where(continues[None, :], inside[:, None] & same_label, True)
        if self.scheme == "BILUO":
            allowed &= continues[None, :] | ~inside[:, None]
        return ChainScores(start, allowed, end)

    def restrict(self, chain: Optional[ChainScores]) -> ChainScores:
        """`chain` (on any device; None: all zeros) as float64 numpy arrays,
        with the moves the scheme forbids set to NEVER."""
        if chain is None:
            chain = ChainScores(*(numpy.zeros(valid.shape) for valid in self.mask))
        ops = get_array_ops(chain.transitions)
        return ChainScores(
            *(
                numpy.where(valid, ops.to_numpy(values).astype("float64"), NEVER)
                for values, valid in zip(chain, self.mask)
            )
        )

    # Model scores → potentials → entities.

    def potentials(
        self,
        scores: Sequence,
        chain: Optional[ChainScores],
        no_entity_start: Sequence[numpy.ndarray],
    ) -> Potentials:
        """The potentials of per-doc (n_tokens, n_tags) `scores` on any device,
        copied to the host as float32, under `chain` (None: every allowed move
        scores 0), with every tag that opens an entity at NEVER on the tokens
        where `no_entity_start[i]` is True: as in spaCy's `ner`, no entity
        starts on a whitespace token."""
        ops = get_array_ops(scores[0])
        lengths = numpy.array([len(doc_scores) for doc_scores in scores], dtype="int64")
        emissions = ops.to_numpy(ops.xp.concatenate(list(scores))).astype("float32")
        closed = numpy.concatenate(no_entity_start).astype(bool)
        emissions[closed[:, None] & self.opens[None, :]] = NEVER
        return Potentials(emissions, lengths, self.restrict(chain))

    def entities(self, paths: Sequence[numpy.ndarray]) -> List[List[Entity]]:
        """The (start, end, label) entities each doc's valid tag path spells:
        an entity opens at B or U and runs on over I and L."""
        lengths = numpy.array([len(path) for path in paths], dtype="int64")
        flat = numpy.concatenate(paths) if len(paths) else numpy.zeros((0,), dtype="int64")
        doc_of = numpy.repeat(numpy.arange(len(paths)), lengths)
        continued = numpy.zeros(len(flat), dtype=bool)
        continued[:-1] = self.runs_on[flat[1:]]  # a valid path opens no doc with I or L
        starts = numpy.flatnonzero(self.opens[flat])
        ends = numpy.flatnonzero((self.opens | self.runs_on)[flat] & ~continued) + 1
        offsets = numpy.cumsum(lengths) - lengths
        docs = doc_of[starts]
        entities: List[List[Entity]] = [[] for _ in paths]
        for doc, start, end, label in zip(
            docs.tolist(),
            (starts - offsets[docs]).tolist(),
            (ends - offsets[docs]).tolist(),
            self.label_ids[flat[starts]].tolist(),
        ):
            entities[doc].append((start, end, self.labels[label]))
        return entities
