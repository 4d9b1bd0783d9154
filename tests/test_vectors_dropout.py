"""FeatureEmbed.v2's vectors_dropout: the static vectors' own dropout rate,
kept when spaCy sets the training dropout."""

import numpy
import pytest
import spacy
from spacy.util import registry
from thinc.api import Config, fix_random_seed, set_dropout_rate
from util import CNN_EMBED, crf_config


def embed_with_vectors(**settings):
    """A deterministic FeatureEmbed.v2 (no word dropout, no characters) over a
    pipeline whose vocab has 4-d vectors, and a doc to embed."""
    nlp = spacy.blank("en")
    rng = numpy.random.default_rng(0)
    for word in ("Paris", "is", "big"):
        nlp.vocab.set_vector(word, rng.normal(size=4).astype("float32"))
    config = {
        **CNN_EMBED,
        "char_cnn_width": 0,
        "word_dropout_rate": 0.0,
        "include_static_vectors": True,
        "vectors_width": 8,
        **settings,
    }
    embed = registry.resolve(Config({"e": config}))["e"]
    docs = [nlp.make_doc("Paris is big")]
    fix_random_seed(0)
    embed.initialize(X=docs)
    return embed, docs


def training_outputs(embed, docs, n=3):
    set_dropout_rate(embed, 0.5)
    return [embed.begin_update(docs)[0][0] for _ in range(n)]


def test_fixed_rate_outlasts_the_training_dropout():
    embed, docs = embed_with_vectors(vectors_dropout=0.0)
    first, *others = training_outputs(embed, docs)
    for other in others:
        numpy.testing.assert_allclose(first, other, rtol=1e-6)
    numpy.testing.assert_allclose(first, embed.predict(docs)[0], rtol=1e-5, atol=1e-6)


def test_default_follows_the_training_dropout():
    embed, docs = embed_with_vectors()
    outputs = training_outputs(embed, docs)
    assert any(not numpy.allclose(outputs[0], other) for other in outputs[1:])


def test_a_rate_outside_zero_to_one_is_refused():
    nlp = spacy.blank("en")
    embed = {**CNN_EMBED, "include_static_vectors": True, "vectors_dropout": 1.0}
    with pytest.raises(ValueError, match="FeatureEmbed vectors_dropout must be in.*1.0"):
        nlp.add_pipe("lstm_ner", config={"model": crf_config(embed=embed)})
