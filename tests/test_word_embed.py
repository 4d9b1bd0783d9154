"""The word embedding of FeatureEmbed.v2: word dropout in training, the unknown
word's zeros in prediction for the words training never saw, kept when saved."""

import numpy
import spacy
from spacy.util import make_tempdir
from thinc.api import fix_random_seed

from spacy_lstm_ner.layers.word_embed import word_embed


def initialized(dropout):
    layer = word_embed("NORM", width=6, rows=100, dropout=dropout)
    layer.initialize()
    return layer


def test_training_drops_a_share_of_the_tokens_and_their_gradient():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    layer = initialized(0.25)
    docs = [nlp.make_doc("a b c d e f g h i j " * 200)]
    (vectors,), backprop = layer.begin_update(docs)
    dropped = ~vectors.any(axis=1)
    assert 0.2 < dropped.mean() < 0.3
    (embed,) = [node for node in layer.walk() if node.name == "hashembed"]
    assert backprop([numpy.ones_like(vectors)]) == []
    assert embed.get_grad("E").sum() == 6 * 4 * (~dropped).sum()


def test_prediction_gives_unseen_words_zeros_and_seen_words_their_rows():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    layer = initialized(0.1)
    layer.begin_update([nlp.make_doc("Paris is big " * 50)])
    (vectors,) = layer.predict([nlp.make_doc("Paris is Lyon")])
    assert vectors[0].any() and vectors[1].any() and not vectors[2].any()
    with make_tempdir() as path:
        layer.to_disk(path / "layer")
        loaded = initialized(0.1).from_disk(path / "layer")
    numpy.testing.assert_array_equal(loaded.predict([nlp.make_doc("Paris is Lyon")])[0], vectors)


def test_without_dropout_every_word_gets_its_rows():
    nlp = spacy.blank("en")
    layer = initialized(0.0)
    layer.begin_update([nlp.make_doc("Paris is big")])
    (vectors,) = layer.predict([nlp.make_doc("Lyon")])
    assert vectors.any() and not len(layer.attrs["known"])
