"""The BiLSTMTagger architecture: shapes, padding-invariance, configuration errors;
the embeddings that feed it are tested in test_embeddings.py."""

import numpy
import pytest
import spacy
from spacy.util import registry
from thinc.api import Config
from util import (
    CHARS_EMBED,
    CNN_EMBED,
    crf_config,
    make_examples,
    small_model_config,
    train_pipeline,
)

TEXTS = [
    "Short one.",
    "A much longer sentence that pads the batch well beyond the short one above it.",
    "Mid-length text about Paris and London.",
    "",
]


def build(nlp, **overrides):
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(**overrides)})
    nlp.initialize(lambda: make_examples(nlp))
    return ner


@pytest.mark.parametrize("bidirectional,depth", [(True, 1), (False, 1), (True, 2)])
def test_doc_scores_do_not_depend_on_batch(bidirectional, depth):
    nlp = spacy.blank("en")
    ner = build(nlp, bidirectional=bidirectional, depth=depth)
    docs = [nlp.make_doc(text) for text in TEXTS]
    batched = ner.model.predict(docs)
    for doc, in_batch in zip(docs, batched):
        (alone,) = ner.model.predict([doc])
        assert alone.shape == (len(doc), len(ner.tags))
        numpy.testing.assert_allclose(alone, in_batch, rtol=1e-5, atol=1e-6)


def test_padding_gets_no_gradient_and_sends_none_back():
    """The gradient reaching a doc's embeddings is the same alone or batched."""
    nlp = spacy.blank("en")
    ner = build(nlp)
    lstm = ner.model.get_ref("lstm")
    embed = ner.model.get_ref("embed")
    docs = [nlp.make_doc(text) for text in TEXTS[:2]]
    X = embed.predict(docs)
    Y, backprop = lstm.begin_update(X)
    dX = backprop([numpy.ones_like(y) for y in Y])
    (Y0,), backprop0 = lstm.begin_update(X[:1])
    (dX0,) = backprop0([numpy.ones_like(Y0)])
    numpy.testing.assert_allclose(dX[0], dX0, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("variational", [False, True])
def test_variational_dropout_drops_the_same_units_at_every_step(variational):
    import torch

    nlp = spacy.blank("en")
    ner = build(nlp, variational_dropout=variational)
    module = ner.model.get_ref("lstm").shims[0].module
    module.train()
    torch.manual_seed(0)
    dropped = module._dropout(torch.ones((8, 20, 16)), 0.5).numpy()
    assert set(numpy.unique(dropped)) == {0.0, 2.0}
    same_at_every_step = (dropped == dropped[:, :1]).all(axis=1)
    assert same_at_every_step.all() == variational
    module.eval()
    assert (module._dropout(torch.ones((2, 3, 4)), 0.5) == 1).all()


def test_variational_dropout_trains():
    nlp = spacy.blank("en")
    ner = build(nlp, variational_dropout=True)
    losses = [nlp.update(make_examples(nlp), drop=0.5)["lstm_ner"] for _ in range(20)]
    assert losses[-1] < losses[0]
    assert ner.model.get_ref("lstm").shims[0].module.variational_dropout


def test_loaded_weights_are_those_the_lstm_runs():
    """The shim's `module` is the module whose weights a load replaces."""
    nlp = spacy.blank("en")
    ner = build(nlp)
    lstm, other = ner.model.get_ref("lstm"), build(spacy.blank("en")).model.get_ref("lstm")
    X = ner.model.get_ref("embed").predict([nlp.make_doc(TEXTS[1])])
    assert not numpy.array_equal(other.predict(X)[0], lstm.predict(X)[0])
    other.from_bytes(lstm.to_bytes())
    weights, loaded = (dict(layer.shims[0].module.named_parameters()) for layer in (lstm, other))
    assert all((loaded[name] == param).all() for name, param in weights.items())
    numpy.testing.assert_array_equal(other.predict(X)[0], lstm.predict(X)[0])


def test_outputs_are_log_probabilities():
    nlp = spacy.blank("en")
    ner = build(nlp)
    (scores,) = ner.model.predict([nlp.make_doc(TEXTS[1])])
    numpy.testing.assert_allclose(numpy.exp(scores).sum(axis=1), 1.0, rtol=1e-5)
    assert (scores <= 0).all()


def test_unidirectional_lstm_has_half_width():
    nlp = spacy.blank("en")
    ner = build(nlp, bidirectional=False, hidden_width=24)
    assert ner.model.get_ref("lstm").get_dim("nO") == 24
    assert ner.model.get_ref("output_layer").get_dim("nI") == 24


@pytest.mark.parametrize(
    "setting,value",
    [("hidden_width", 0), ("hidden_width", -8), ("depth", 0), ("dropout", 1.0), ("dropout", -0.1)],
)
def test_bad_model_settings_fail_at_construction(setting, value):
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=f"BiLSTMTagger {setting}.*{value}"):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(**{setting: value})})
    with pytest.raises(ValueError, match=f"BiLSTMCRFTagger {setting}.*{value}"):
        nlp.add_pipe("lstm_ner", config={"model": crf_config(**{setting: value})})


def test_unknown_scheme_fails_at_construction():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="'BIO'"):
        nlp.add_pipe("lstm_ner", config={"scheme": "BIO"})


def test_architecture_resolves_from_config():
    config = Config({"model": small_model_config()})
    model = registry.resolve(config)["model"]
    assert {"embed", "lstm", "output_layer"} <= set(model.ref_names)


def test_shares_a_tok2vec_through_a_listener():
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    listener = {
        "@architectures": "spacy.Tok2VecListener.v1",
        "width": nlp.get_pipe("tok2vec").model.get_dim("nO"),
        "upstream": "tok2vec",
    }
    nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=listener)})
    losses = train_pipeline(nlp, make_examples(nlp), n_iter=30)
    assert losses[-1] < losses[0] / 2
    assert nlp.get_pipe("tok2vec").listening_components == ["lstm_ner"]
    doc = nlp("Sharon flew to Miami last Friday.")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Sharon", "PER"),
        ("Miami", "GEO"),
        ("last Friday", "TIM"),
    ]


def test_unknown_multihashembed_attr_fails_at_construction():
    embed = dict(small_model_config()["embed"], attrs=["NORM", "PREFX", "SUFFIX", "SHAPE"])
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="BiLSTMTagger embed attrs: 'PREFX'"):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=embed)})


FEATURE_EMBED = {
    "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
    "attrs": ["NORM", "SHAPE"],
    "widths": [16, 8],
    "rows": [100, 50],
}


@pytest.mark.parametrize(
    "embed", ["MultiHashEmbed", "FeatureEmbed", "FeatureEmbed with chars", "FeatureEmbed.v2"]
)
def test_prediction_gives_the_scores_of_the_plain_chain(embed):
    """Prediction's own path (the embedding kept as one array, chunks padded
    from it, the dense layer on each chunk) gives what the layers' chain does."""
    from thinc.api import chain

    configs = {
        "MultiHashEmbed": {},
        "FeatureEmbed": {"embed": FEATURE_EMBED},
        "FeatureEmbed with chars": {"embed": CHARS_EMBED},
        "FeatureEmbed.v2": {"embed": {**CNN_EMBED, "word_dropout_rate": 0.0}},
    }
    nlp = spacy.blank("en")
    ner = build(nlp, chunk_size=2, **configs[embed])
    docs = [nlp.make_doc(text) for text in TEXTS]
    chained = chain(*ner.model.layers).predict(docs)
    for predicted, expected in zip(ner.model.predict(docs), chained):
        numpy.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)
