"""`aligned_biluo` gives exactly spaCy's `Example.get_aligned_ner()`, on the
fast path (same tokens) and on the aligned one (other tokens)."""

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_lstm_ner.gold import aligned_biluo

WORDS = ["Sharon", "flew", "to", "New", "York", "on", "U.S.-led", "Monday", ".", "co-op", "\n"]
NLP = spacy.blank("en")


@st.composite
def examples(draw) -> Example:
    """A reference doc with entities and unannotated tokens; predicted either
    with the same tokens or re-tokenized from its text."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8))
    spaces = draw(st.lists(st.booleans(), min_size=len(words), max_size=len(words)))
    reference = Doc(NLP.vocab, words=words, spaces=spaces)
    cuts = sorted(draw(st.sets(st.integers(0, len(words)), max_size=6)))
    spans = [(start, end) for start, end in zip(cuts[::2], cuts[1::2])]
    labels = draw(
        st.lists(st.sampled_from(["geo", "per"]), min_size=len(spans), max_size=len(spans))
    )
    ents = [Span(reference, start, end, label=label) for (start, end), label in zip(spans, labels)]
    covered = {i for start, end in spans for i in range(start, end)}
    unannotated = draw(st.sets(st.integers(0, len(words) - 1), max_size=3)) - covered
    reference.set_ents(
        ents, missing=[reference[i : i + 1] for i in sorted(unannotated)], default="outside"
    )
    if draw(st.booleans()):
        predicted = Doc(NLP.vocab, words=words, spaces=spaces)
    else:
        predicted = NLP.make_doc(reference.text)
    return Example(predicted, reference)


@settings(max_examples=300, deadline=None)
@given(examples())
def test_aligned_biluo_equals_get_aligned_ner(example):
    assert aligned_biluo(example) == example.get_aligned_ner()


def test_fast_path_keeps_missing_tokens_missing():
    reference = Doc(
        NLP.vocab, words=["Sharon", "flew", "to", "Miami"], ents=["B-per", "O", "", "B-geo"]
    )
    example = Example(Doc(NLP.vocab, words=["Sharon", "flew", "to", "Miami"]), reference)
    assert aligned_biluo(example) == ["U-per", "O", None, "U-geo"]


def test_reference_without_entity_annotation_is_all_missing():
    example = Example(NLP.make_doc("Sharon flew"), Doc(NLP.vocab, words=["Sharon", "flew"]))
    assert aligned_biluo(example) == [None, None]
