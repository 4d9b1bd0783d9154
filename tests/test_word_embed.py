"""The word embedding of FeatureEmbed.v2: word dropout in training, the unknown
word's zeros in prediction for the words training never saw, kept when saved."""

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import make_tempdir
from thinc.api import fix_random_seed
from util import CNN_EMBED, TRAIN_DATA, crf_config

from spacy_lstm_ner.layers.word_embed import count_words, word_embed


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


def test_frequency_dropout_drops_rare_words_more_than_frequent_ones():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    layer = word_embed("NORM", width=6, rows=100, dropout=0.0, alpha=4.0)
    layer.initialize()
    count_words(layer, [nlp.make_doc("the " * 96 + "Paris")])
    counts = dict(zip(layer.attrs["count_keys"].tolist(), layer.attrs["counts"].tolist()))
    assert counts == {nlp.vocab.strings["the"]: 96, nlp.vocab.strings["paris"]: 1}
    doc = nlp.make_doc("the Paris " * 2000)
    (vectors,), _ = layer.begin_update([doc])
    dropped = ~vectors.any(axis=1)
    assert 0.75 < dropped[1::2].mean() < 0.85  # Paris: 4 / (4 + 1)
    assert 0.02 < dropped[0::2].mean() < 0.06  # the: 4 / (4 + 96)


def test_frequency_dropout_without_counts_names_the_fix():
    layer = word_embed("NORM", width=6, rows=100, dropout=0.0, alpha=4.0)
    layer.initialize()
    with pytest.raises(ValueError, match="word_dropout_alpha needs the word counts"):
        layer.begin_update([spacy.blank("en").make_doc("Paris")])


def test_lstm_ner_counts_the_training_words_and_saves_them():
    nlp = spacy.blank("en")
    embed = {**CNN_EMBED, "word_dropout_rate": 0.0, "word_dropout_alpha": 2.0}
    nlp.add_pipe("lstm_ner", config={"model": crf_config(embed=embed)})
    examples = [
        Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in TRAIN_DATA
    ]
    optimizer = nlp.initialize(lambda: examples)
    (layer,) = [n for n in nlp.get_pipe("lstm_ner").model.walk() if n.name == "word_embed"]
    words = [token.norm for eg in examples for token in eg.reference]
    assert layer.attrs["counts"].sum() == len(words)
    assert sorted(layer.attrs["count_keys"].tolist()) == sorted(set(words))
    nlp.update(examples, sgd=optimizer)
    with make_tempdir() as path:
        nlp.to_disk(path)
        loaded = spacy.load(path)
    (reloaded,) = [n for n in loaded.get_pipe("lstm_ner").model.walk() if n.name == "word_embed"]
    numpy.testing.assert_array_equal(reloaded.attrs["counts"], layer.attrs["counts"])
    assert reloaded.attrs["alpha"] == 2.0
