"""Constrained Viterbi: only valid sequences, and the best of them."""

from itertools import product

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from spacy.tokens import Doc
from spacy.training.iob_utils import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from spacy_lstm_ner.decoding import decodable_scores, softmax_decode, viterbi_decode
from spacy_lstm_ner.tags import batch_entity_offsets, entity_offsets, tag_names, transition_mask

LABELS = ["geo", "per"]


def is_valid(tags, scheme):
    """Independent validity check, straight from the scheme's definition."""
    if scheme == "IOB":
        for prev, tag in zip(["O"] + tags, tags):
            if tag.startswith("I-") and prev[2:] != tag[2:]:
                return False
        return True
    open_label = None
    for tag in tags:
        prefix, label = (tag, "") if tag == "O" else tag.split("-", 1)
        if open_label is None and prefix in ("I", "L"):
            return False
        if open_label is not None and (prefix not in ("I", "L") or label != open_label):
            return False
        open_label = label if prefix in ("B", "I") else None
    return open_label is None


def score_arrays(n_tags):
    finite = st.floats(-20, 20, allow_nan=False, width=32)
    doc = arrays("float32", st.tuples(st.integers(0, 7), st.just(n_tags)), elements=finite)
    return st.lists(doc, min_size=1, max_size=6)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoding_only_emits_valid_sequences(scheme, data):
    tags = tag_names(LABELS, scheme)
    scores = data.draw(score_arrays(len(tags)))
    paths = viterbi_decode(scores, *transition_mask(tuple(tags), scheme))
    assert [len(p) for p in paths] == [len(s) for s in scores]
    for path in paths:
        assert is_valid([tags[i] for i in path], scheme)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_decoding_finds_best_valid_sequence(scheme, data):
    """Brute force over every sequence of short docs decoded in one batch."""
    tags = tag_names(["geo"], scheme)
    finite = st.floats(-5, 5, allow_nan=False, width=32)
    lengths = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    scores = [
        data.draw(arrays("float32", (length, len(tags)), elements=finite)) for length in lengths
    ]
    paths = viterbi_decode(scores, *transition_mask(tuple(tags), scheme))
    for doc_scores, path in zip(scores, paths):
        rows = numpy.arange(len(doc_scores))
        best = max(
            doc_scores[rows, list(seq)].sum()
            for seq in product(range(len(tags)), repeat=len(doc_scores))
            if is_valid([tags[i] for i in seq], scheme)
        )
        assert doc_scores[rows, path].sum() == pytest.approx(best, abs=1e-4)


def test_decoding_overrides_invalid_argmax():
    tags = tag_names(["geo"], "IOB")
    scores = numpy.log(numpy.array([[0.6, 0.1, 0.3]], dtype="float32"))
    scores = numpy.concatenate([scores, numpy.log([[0.1, 0.1, 0.8]]).astype("float32")])
    # argmax alone would give O, I-geo; the valid best is B-geo, I-geo
    (path,) = viterbi_decode([scores], *transition_mask(tuple(tags), "IOB"))
    assert [tags[i] for i in path] == ["B-geo", "I-geo"]
    assert iob_to_biluo([tags[i] for i in path]) == ["B-geo", "L-geo"]


def test_decoding_empty_docs():
    tags = tag_names(LABELS, "BILUO")
    scores = [numpy.zeros((0, len(tags)), dtype="float32"), numpy.zeros((2, len(tags)), "float32")]
    paths = viterbi_decode(scores, *transition_mask(tuple(tags), "BILUO"))
    assert [len(p) for p in paths] == [0, 2]
    assert viterbi_decode([scores[0]], *transition_mask(tuple(tags), "BILUO"))[0].shape == (0,)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_entity_offsets_agree_with_spacy(scheme, data):
    """Entities read off decoded tag ids equal spaCy's reading of the tag strings."""
    tags = tag_names(LABELS, scheme)
    (path,) = viterbi_decode(
        data.draw(score_arrays(len(tags)))[:1], *transition_mask(tuple(tags), scheme)
    )
    strings = [tags[i] for i in path]
    biluo = strings if scheme == "BILUO" else iob_to_biluo(strings)
    doc = Doc(Vocab(), words=["w"] * len(path))
    expected = [(s.start, s.end, s.label_) for s in biluo_tags_to_spans(doc, biluo)]
    assert entity_offsets(path, tuple(tags)) == expected


def spacy_entities(path, tags, scheme):
    strings = [tags[i] for i in path]
    biluo = strings if scheme == "BILUO" else iob_to_biluo(strings)
    doc = Doc(Vocab(), words=["w"] * len(path))
    return [(s.start, s.end, s.label_) for s in biluo_tags_to_spans(doc, biluo)]


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_batch_entity_offsets_read_each_doc(scheme, data):
    """Entities of a batch of paths, empty docs included, read at once, equal
    spaCy's reading of each doc's tags."""
    tags = tag_names(LABELS, scheme)
    paths = viterbi_decode(
        data.draw(score_arrays(len(tags))), *transition_mask(tuple(tags), scheme)
    )
    assert batch_entity_offsets(paths, tuple(tags)) == [
        spacy_entities(path, tags, scheme) for path in paths
    ]


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_softmax_decode_scores_as_viterbi(scheme, data):
    """Taking the per-token best tags where they are valid gives, doc for doc,
    a valid path scoring what Viterbi's best path scores."""
    tags = tag_names(LABELS, scheme)
    log_probs = data.draw(score_arrays(len(tags)))
    no_start = [data.draw(arrays(bool, len(doc_scores))) for doc_scores in log_probs]
    masks = transition_mask(tuple(tags), scheme)
    scores = decodable_scores(log_probs, scheme, no_start)
    paths = softmax_decode(log_probs, scheme, no_start)
    for doc_scores, path, best in zip(scores, paths, viterbi_decode(scores, *masks)):
        assert is_valid([tags[i] for i in path], scheme)
        rows = numpy.arange(len(path))
        assert doc_scores[rows, path].sum() == pytest.approx(doc_scores[rows, best].sum(), abs=1e-4)


def test_softmax_decode_mends_only_invalid_docs():
    """In one batch, a doc whose best tags are valid keeps them, one whose
    best tags are not gets the best valid path, and an empty doc stays empty."""
    tags = tag_names(["geo"], "IOB")
    valid = numpy.log(numpy.array([[0.2, 0.7, 0.1], [0.2, 0.1, 0.7]], dtype="float32"))
    invalid = numpy.log(numpy.array([[0.6, 0.1, 0.3], [0.1, 0.1, 0.8]], dtype="float32"))
    empty = numpy.zeros((0, 3), dtype="float32")
    no_start = [numpy.zeros(len(doc), dtype=bool) for doc in (valid, empty, invalid)]
    paths = softmax_decode([valid, empty, invalid], "IOB", no_start)
    assert [[tags[i] for i in path] for path in paths] == [
        ["B-geo", "I-geo"],
        [],
        ["B-geo", "I-geo"],
    ]
