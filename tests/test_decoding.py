"""Constrained Viterbi: only valid sequences, and the best of them."""

from itertools import product

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from spacy.training.iob_utils import iob_to_biluo
from util import is_valid, potentials_of

from spacy_lstm_ner.decoding import best_paths, viterbi
from spacy_lstm_ner.tagset import TagSet

LABELS = ["geo", "per"]


def masked(scores, tagset):
    """Potentials of `scores` under the scheme's mask alone."""
    return potentials_of(scores, tagset.restrict(None))


def score_arrays(n_tags):
    finite = st.floats(-20, 20, allow_nan=False, width=32)
    doc = arrays("float32", st.tuples(st.integers(0, 7), st.just(n_tags)), elements=finite)
    return st.lists(doc, min_size=1, max_size=6)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoding_only_emits_valid_sequences(scheme, data):
    tagset = TagSet(LABELS, scheme)
    tags = tagset.tags
    scores = data.draw(score_arrays(len(tags)))
    paths = viterbi(masked(scores, tagset))
    assert [len(p) for p in paths] == [len(s) for s in scores]
    for path in paths:
        assert is_valid([tags[i] for i in path], scheme)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_decoding_finds_best_valid_sequence(scheme, data):
    """Brute force over every sequence of short docs decoded in one batch."""
    tagset = TagSet(["geo"], scheme)
    tags = tagset.tags
    finite = st.floats(-5, 5, allow_nan=False, width=32)
    lengths = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    scores = [
        data.draw(arrays("float32", (length, len(tags)), elements=finite)) for length in lengths
    ]
    paths = viterbi(masked(scores, tagset))
    for doc_scores, path in zip(scores, paths):
        rows = numpy.arange(len(doc_scores))
        best = max(
            doc_scores[rows, list(seq)].sum()
            for seq in product(range(len(tags)), repeat=len(doc_scores))
            if is_valid([tags[i] for i in seq], scheme)
        )
        assert doc_scores[rows, path].sum() == pytest.approx(best, abs=1e-4)


def test_decoding_overrides_invalid_argmax():
    tagset = TagSet(["geo"], "IOB")
    tags = tagset.tags
    scores = numpy.log(numpy.array([[0.6, 0.1, 0.3]], dtype="float32"))
    scores = numpy.concatenate([scores, numpy.log([[0.1, 0.1, 0.8]]).astype("float32")])
    # argmax alone would give O, I-geo; the valid best is B-geo, I-geo
    (path,) = viterbi(masked([scores], tagset))
    assert [tags[i] for i in path] == ["B-geo", "I-geo"]
    assert iob_to_biluo([tags[i] for i in path]) == ["B-geo", "L-geo"]


def test_decoding_empty_docs():
    tagset = TagSet(LABELS, "BILUO")
    scores = [numpy.zeros((0, len(tagset)), "float32"), numpy.zeros((2, len(tagset)), "float32")]
    paths = viterbi(masked(scores, tagset))
    assert [len(p) for p in paths] == [0, 2]
    assert viterbi(masked([scores[0]], tagset))[0].shape == (0,)
    assert best_paths(masked(scores, tagset))[0].shape == (0,)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_softmax_decode_scores_as_viterbi(scheme, data):
    """Taking the per-token best tags where they are valid gives, doc for doc,
    a valid path scoring what Viterbi's best path scores."""
    tagset = TagSet(LABELS, scheme)
    tags = tagset.tags
    log_probs = data.draw(score_arrays(len(tags)))
    no_start = [data.draw(arrays(bool, len(doc_scores))) for doc_scores in log_probs]
    potentials = tagset.potentials(log_probs, None, no_start)
    scores = potentials.per_doc()
    paths = best_paths(potentials)
    for doc_scores, path, best in zip(scores, paths, viterbi(potentials)):
        assert is_valid([tags[i] for i in path], scheme)
        rows = numpy.arange(len(path))
        assert doc_scores[rows, path].sum() == pytest.approx(doc_scores[rows, best].sum(), abs=1e-4)


def test_softmax_decode_mends_only_invalid_docs():
    """In one batch, a doc whose best tags are valid keeps them, one whose
    best tags are not gets the best valid path, and an empty doc stays empty."""
    tagset = TagSet(["geo"], "IOB")
    tags = tagset.tags
    valid = numpy.log(numpy.array([[0.2, 0.7, 0.1], [0.2, 0.1, 0.7]], dtype="float32"))
    invalid = numpy.log(numpy.array([[0.6, 0.1, 0.3], [0.1, 0.1, 0.8]], dtype="float32"))
    empty = numpy.zeros((0, 3), dtype="float32")
    no_start = [numpy.zeros(len(doc), dtype=bool) for doc in (valid, empty, invalid)]
    paths = best_paths(tagset.potentials([valid, empty, invalid], None, no_start))
    assert [[tags[i] for i in path] for path in paths] == [
        ["B-geo", "I-geo"],
        [],
        ["B-geo", "I-geo"],
    ]
