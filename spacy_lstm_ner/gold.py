"""Gold tags of an `Example`, aligned to its predicted tokens."""

from typing import List, Optional

import numpy
from spacy.attrs import ENT_IOB, IS_SPACE, ORTH, SPACY
from spacy.tokens import Doc
from spacy.training import Example

from .tagset import TagSet

OUTSIDE = 2  # ENT_IOB of a token annotated as outside every entity


def aligned_biluo(example: Example) -> List[Optional[str]]:
    """`example.get_aligned_ner()`: a BILUO tag per predicted token, None where
    the gold annotation is missing. Where the predicted doc has exactly the
    reference's tokens, as most training docs do, the tags are read off the
    reference directly instead of through spaCy's token alignment, which is
    many times slower."""
    predicted, reference = example.predicted, example.reference
    if (
        not _same_tokens(predicted, reference)
        or not reference.has_annotation("ENT_IOB")
        or predicted.to_array(IS_SPACE).any()
    ):
        return example.get_aligned_ner()
    tags: List[Optional[str]] = [None] * len(reference)
    for ent in reference.ents:
        if len(ent) == 1:
            tags[ent.start] = f"U-{ent.label_}"
            continue
        tags[ent.start] = f"B-{ent.label_}"
        tags[ent.start + 1 : ent.end - 1] = [f"I-{ent.label_}"] * (len(ent) - 2)
        tags[ent.end - 1] = f"L-{ent.label_}"
    for i in numpy.flatnonzero(reference.to_array(ENT_IOB) == OUTSIDE):
        if tags[i] is None:
            tags[i] = "O"
    return tags


def _same_tokens(predicted: Doc, reference: Doc) -> bool:
    """Same token texts and same whitespace after each token."""
    return len(predicted) == len(reference) and numpy.array_equal(
        predicted.to_array([ORTH, SPACY]), reference.to_array([ORTH, SPACY])
    )


def gold_tag_ids(example: Example, tagset: TagSet, component: str) -> numpy.ndarray:
    """The id in `tagset` of each predicted token's gold tag, -1 where the
    gold tag is missing; a gold tag not in the set is an error that names the
    doc and the `component`."""
    ids, unknown = tagset.gold_ids(aligned_biluo(example))
    if unknown:
        raise ValueError(
            f"Gold tag {unknown[0]!r} in the doc {example.reference.text[:60]!r} "
            f"is not one of {component}'s labels {sorted(tagset.labels)}: add the label at initialize."
        )
    return ids
