"""Document pooling: each token's state beside the mean state of its doc's other
tokens with the same key, trained through both and predicted as trained."""

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import make_tempdir
from thinc.api import NumpyOps
from util import GOLD, TRAIN_DATA, crf_config, ents_of, overfit_pipeline

from spacy_lstm_ner.layers.doc_pool import doc_pool

WORDS = ["Merkel", "met", "merkel", "in", "Paris", "and", "MERKEL", "left", "in", "May"]


@pytest.fixture
def doc():
    return Doc(spacy.blank("en").vocab, words=WORDS)


def test_a_token_reads_the_mean_of_the_others_with_its_key(doc):
    ops = NumpyOps()
    states = numpy.arange(len(doc) * 2, dtype="float32").reshape(len(doc), 2)
    (pooled,), _ = doc_pool(ops, [states], [doc], "LOWER")
    numpy.testing.assert_array_equal(pooled[:, :2], states)
    numpy.testing.assert_allclose(pooled[0, 2:], (states[2] + states[6]) / 2)
    numpy.testing.assert_allclose(pooled[3, 2:], states[8])
    numpy.testing.assert_array_equal(pooled[4, 2:], [0, 0])
    (by_text,), _ = doc_pool(ops, [states], [doc], "ORTH")
    numpy.testing.assert_array_equal(by_text[0, 2:], [0, 0])


def test_the_gradient_is_that_of_the_pooling(doc):
    ops = NumpyOps()
    rng = numpy.random.default_rng(0)
    states = rng.standard_normal((len(doc), 3)).astype("float32")
    (pooled,), backprop = doc_pool(ops, [states], [doc], "LOWER")
    d_pooled = rng.standard_normal(pooled.shape).astype("float32")
    (d_states,) = backprop([d_pooled])

    def loss(values):
        return float((doc_pool(ops, [values], [doc], "LOWER")[0][0] * d_pooled).sum())

    numeric = numpy.zeros_like(states)
    for index in numpy.ndindex(*states.shape):
        step = numpy.zeros_like(states)
        step[index] = 1e-2
        numeric[index] = (loss(states + step) - loss(states - step)) / 2e-2
    numpy.testing.assert_allclose(d_states, numeric, atol=1e-3)


def test_a_pooled_pipeline_learns_and_loads_from_disk():
    nlp = overfit_pipeline(crf_config(doc_pool_attr="LOWER"))
    text = " ".join(text for text, _ in TRAIN_DATA)
    assert [ents_of(nlp(text)) for text, _ in TRAIN_DATA] == GOLD
    with make_tempdir() as tmp:
        nlp.to_disk(tmp)
        loaded = spacy.load(tmp)
    assert loaded.get_pipe("lstm_ner").model.attrs["doc_pool_attr"] == "LOWER"
    assert ents_of(loaded(text)) == ents_of(nlp(text))


def test_an_unknown_key_is_refused_at_construction():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="doc_pool_attr.*'LOWERCASE'"):
        nlp.add_pipe("lstm_ner", config={"model": crf_config(doc_pool_attr="LOWERCASE")})
