"""The token embeddings: WordEmbed.v1; FeatureEmbed.v1, its hashed lookups and
character features; FeatureEmbed.v2, its word embedding (word dropout in
training, the unknown word's zeros in prediction for the words training never
saw, kept when saved), its character CNN and its static vectors' own dropout;
WindowEmbed.v1's neighbouring tokens; spaCy's own embeddings feeding the tagger."""

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import make_tempdir, registry
from thinc.api import Config, fix_random_seed, set_dropout_rate
from util import (
    CNN_EMBED,
    TRAIN_DATA,
    crf_config,
    make_examples,
    small_model_config,
    train_pipeline,
    window_embed,
)

from spacy_lstm_ner.layers.char_cnn import char_cnn, word_bytes
from spacy_lstm_ner.layers.word_embed import count_words, word_embed

# WordEmbed.v1: one hashed lookup


def test_word_embed_is_a_plain_lookup_of_known_width():
    embed = registry.resolve(
        Config({"e": {"@architectures": "spacy_lstm_ner.WordEmbed.v1", "width": 12, "rows": 50}})
    )["e"]
    nlp = spacy.blank("en")
    embed.initialize()
    (vectors,) = embed.predict([nlp.make_doc("the cat the")])
    assert vectors.shape == (3, 12)
    numpy.testing.assert_array_equal(vectors[0], vectors[2])


@pytest.mark.parametrize("setting,value", [("width", 0), ("rows", -1), ("attr", "FOO")])
def test_bad_word_embed_settings_fail_at_construction(setting, value):
    embed = {"@architectures": "spacy_lstm_ner.WordEmbed.v1", setting: value}
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=f"WordEmbed {setting}.*{value}"):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=embed)})


# FeatureEmbed.v1: one hashed lookup per attribute, characters by position


def test_feature_embed_concatenates_one_lookup_per_attr():
    embed = registry.resolve(
        Config(
            {
                "e": {
                    "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
                    "attrs": ["NORM", "SHAPE"],
                    "widths": [6, 4],
                    "rows": [50, 20],
                }
            }
        )
    )["e"]
    nlp = spacy.blank("en")
    embed.initialize()
    docs = [nlp.make_doc("the Cat cat")]
    (vectors,) = embed.predict(docs)
    assert vectors.shape == (3, 10) and embed.get_dim("nO") == 10
    numpy.testing.assert_allclose(vectors.mean(axis=1), 0.0, atol=1e-5)
    (features,) = embed.layers[0].predict(docs)
    numpy.testing.assert_array_equal(features[1, :6], features[2, :6])
    assert not numpy.array_equal(features[1, 6:], features[2, 6:])


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("attrs", ["NORM", "FOO"], "FeatureEmbed attr 'FOO'"),
        ("widths", [8, 0], "FeatureEmbed widths.*0"),
        ("rows", [-5, 10], "FeatureEmbed rows.*-5"),
        ("widths", [8], "FeatureEmbed widths must have one entry per attr"),
        ("attrs", [], "FeatureEmbed attrs must name"),
    ],
)
def test_bad_feature_embed_settings_fail_at_construction(setting, value, message):
    embed = {
        "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
        "attrs": ["NORM", "SHAPE"],
        "widths": [8, 8],
        "rows": [100, 100],
        setting: value,
    }
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=message):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=embed)})


def test_feature_embed_adds_character_vectors():
    embed = registry.resolve(
        Config(
            {
                "e": {
                    "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
                    "attrs": ["NORM"],
                    "widths": [6],
                    "rows": [50],
                    "chars": 4,
                    "char_width": 3,
                }
            }
        )
    )["e"]
    nlp = spacy.blank("en")
    embed.initialize()
    docs = [nlp.make_doc("Paris Paris Parks")]
    (vectors,) = embed.predict(docs)
    assert vectors.shape == (3, 6 + 4 * 3) and embed.get_dim("nO") == 18
    (features,), backprop = embed.layers[0].begin_update(docs)
    numpy.testing.assert_array_equal(features[0], features[1])
    numpy.testing.assert_array_equal(features[0, 6:12], features[2, 6:12])
    assert not numpy.array_equal(features[0, 12:], features[2, 12:])
    backprop([numpy.ones_like(features)])
    (chars,) = [layer for layer in embed.walk() if layer.name == "character_embed"]
    assert chars.get_grad("E").sum() == 3 * 4 * 3


@pytest.mark.parametrize("setting,value", [("chars", 3), ("chars", -2), ("char_width", 0)])
def test_bad_character_settings_fail_at_construction(setting, value):
    embed = {
        "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
        "attrs": ["NORM"],
        "widths": [8],
        "rows": [100],
        "chars": 4,
        setting: value,
    }
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=f"FeatureEmbed {setting}.*{value}"):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=embed)})


# FeatureEmbed.v2: its defaults, settings and width


def test_feature_embed_v2_defaults_are_bilstm_crf_cfgs_affix_free_embedding():
    """NORM and SHAPE only, the character CNN, no static vectors: a bare
    FeatureEmbed.v2 builds without a vectors table or word counts."""
    embed = registry.resolve(Config({"e": {"@architectures": "spacy_lstm_ner.FeatureEmbed.v2"}}))[
        "e"
    ]
    assert embed.get_dim("nO") == 64 + 16 + 50
    names = {layer.name for layer in embed.walk()}
    assert "char_cnn" in names and "static_vectors" not in names
    columns = [
        column
        for layer in embed.walk()
        if layer.name == "extract_features"
        for column in layer.attrs["columns"]
    ]
    assert columns == ["SHAPE"]
    (word,) = [layer for layer in embed.walk() if layer.name == "word_embed"]
    assert word.attrs["alpha"] == 0.0


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("char_cnn_width", -1, "FeatureEmbed char_cnn_width.*-1"),
        ("char_width", 0, "FeatureEmbed char_width.*0"),
        ("max_bytes", 0, "FeatureEmbed max_bytes.*0"),
        ("char_window", 2, "FeatureEmbed char_window must be an odd number.*2"),
        ("char_dropout", 1.0, "FeatureEmbed char_dropout must be in.*1.0"),
        ("word_dropout_rate", 1.0, "FeatureEmbed word_dropout_rate.*1.0"),
        ("word_dropout_alpha", -1.0, "FeatureEmbed word_dropout_alpha must be >= 0"),
        ("word_dropout_alpha", 4.0, "word_dropout_alpha = 4.0 and word_dropout_rate = 0.2"),
    ],
)
def test_bad_feature_embed_v2_settings_fail_at_construction(setting, value, message):
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=message):
        nlp.add_pipe("lstm_ner", config={"model": crf_config(embed={**CNN_EMBED, setting: value})})


def test_feature_embed_v2_width_is_the_sum_of_its_parts():
    embed = registry.resolve(Config({"e": {**CNN_EMBED, "char_cnn_width": 10}}))["e"]
    embed.initialize()
    (vectors,) = embed.predict([spacy.blank("en").make_doc("the Cat sat")])
    assert vectors.shape == (3, 16 + 8 + 10) and embed.get_dim("nO") == 34
    no_chars = registry.resolve(Config({"e": {**CNN_EMBED, "char_cnn_width": 0}}))["e"]
    assert no_chars.get_dim("nO") == 24 and not any(
        layer.name == "char_cnn" for layer in no_chars.walk()
    )


ROUND_TRIP_TEXTS = ["Angela Merkel visited Paris.", "Apple opened an office in Berlin."]


def trained_and_reloaded(model_config):
    """A pipeline trained with `model_config`, and its copy loaded from disk,
    after checking that training converged and the copy finds the same entities."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": model_config})
    losses = train_pipeline(nlp, make_examples(nlp), n_iter=60)
    assert losses[-1] < losses[0] / 5
    expected = [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(ROUND_TRIP_TEXTS)]
    assert any(expected)
    with make_tempdir() as path:
        nlp.to_disk(path)
        loaded = spacy.load(path)
    found = [[(e.text, e.label_) for e in doc.ents] for doc in loaded.pipe(ROUND_TRIP_TEXTS)]
    assert found == expected
    return nlp, loaded


def test_feature_embed_v2_pipeline_round_trips_with_identical_predictions():
    nlp, loaded = trained_and_reloaded(crf_config(embed=CNN_EMBED))
    for text in ROUND_TRIP_TEXTS:
        numpy.testing.assert_allclose(
            loaded.get_pipe("lstm_ner").model.predict([loaded.make_doc(text)]).emissions[0],
            nlp.get_pipe("lstm_ner").model.predict([nlp.make_doc(text)]).emissions[0],
            rtol=1e-5,
            atol=1e-6,
        )


# FeatureEmbed.v2's word embedding: word dropout, the unknown word's zeros


def initialized_word_embed(dropout):
    layer = word_embed("NORM", width=6, rows=100, dropout=dropout)
    layer.initialize()
    return layer


def test_training_drops_a_share_of_the_tokens_and_their_gradient():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    layer = initialized_word_embed(0.25)
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
    layer = initialized_word_embed(0.1)
    layer.begin_update([nlp.make_doc("Paris is big " * 50)])
    (vectors,) = layer.predict([nlp.make_doc("Paris is Lyon")])
    assert vectors[0].any() and vectors[1].any() and not vectors[2].any()
    with make_tempdir() as path:
        layer.to_disk(path / "layer")
        loaded = initialized_word_embed(0.1).from_disk(path / "layer")
    numpy.testing.assert_array_equal(loaded.predict([nlp.make_doc("Paris is Lyon")])[0], vectors)


def test_without_dropout_every_word_gets_its_rows():
    nlp = spacy.blank("en")
    layer = initialized_word_embed(0.0)
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


# FeatureEmbed.v2's character CNN: one vector per distinct word, whole words read


def initialized_cnn(**settings):
    """A CNN with enough filters that two words differing in a few bytes are
    all but certain to differ in some filter's maximum; seeded, so a test
    gives the same verdict on every run."""
    fix_random_seed(0)
    layer = char_cnn(**{"nO": 32, "char_width": 4, "window": 3, "max_bytes": 10, **settings})
    layer.initialize()
    return layer


def test_a_word_gets_one_vector_wherever_it_occurs():
    nlp = spacy.blank("en")
    layer = initialized_cnn()
    first, second = layer.predict([nlp.make_doc("Paris and Paris"), nlp.make_doc("Paris Parks")])
    assert first.shape == (3, 32) and second.shape == (2, 32)
    numpy.testing.assert_array_equal(first[0], first[2])
    numpy.testing.assert_array_equal(first[0], second[0])
    assert not numpy.array_equal(second[0], second[1])


def test_the_whole_word_counts_not_only_its_ends():
    """Words alike in their first and last 4 bytes, which the affix features
    of FeatureEmbed.v1 could not tell apart, get different vectors."""
    nlp = spacy.blank("en")
    layer = initialized_cnn(max_bytes=24)
    (vectors,) = layer.predict([nlp.make_doc("Kazakhstan Kazakhoostan")])
    assert not numpy.allclose(vectors[0], vectors[1])


def test_char_dropout_acts_in_training_only():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("Kazakhstan Paris")]
    layer = initialized_cnn(dropout=0.5)
    predicted = layer.predict(docs)[0]
    numpy.testing.assert_array_equal(predicted, layer.predict(docs)[0])
    (first,), _ = layer.begin_update(docs)
    (second,), _ = layer.begin_update(docs)
    assert not numpy.array_equal(first, second) and not numpy.array_equal(first, predicted)
    without = initialized_cnn()
    (trained,), _ = without.begin_update(docs)
    numpy.testing.assert_allclose(trained, without.predict(docs)[0], rtol=1e-6)


def test_long_words_are_read_by_their_first_and_last_bytes():
    nlp = spacy.blank("en")
    keys = numpy.array(
        [nlp.vocab.strings.add(word) for word in ("abcdefghij", "ab", "é")], dtype="uint64"
    )
    byte_ids = word_bytes(nlp.vocab.strings, keys, max_bytes=6)
    assert byte_ids.shape == (3, 6)
    assert bytes((byte_ids[0] - 1).tolist()) == b"abchij"
    assert byte_ids[1].tolist() == [ord("a") + 1, ord("b") + 1, 0, 0, 0, 0]
    assert (
        byte_ids[2, :2].tolist() == [b + 1 for b in "é".encode("utf8")]
        and not byte_ids[2, 2:].any()
    )


def test_empty_batch_and_empty_docs():
    nlp = spacy.blank("en")
    layer = initialized_cnn()
    vectors = layer.predict([nlp.make_doc(""), nlp.make_doc("")])
    assert [v.shape for v in vectors] == [(0, 32), (0, 32)]
    vectors = layer.predict([nlp.make_doc(""), nlp.make_doc("Hi")])
    assert [v.shape for v in vectors] == [(0, 32), (1, 32)]


def test_gradient_reaches_the_cnn_once_per_distinct_word():
    import torch

    nlp = spacy.blank("en")
    layer = initialized_cnn()
    module = layer.shims[0].module
    docs = [nlp.make_doc("Paris Paris")]
    (vectors,), backprop = layer.begin_update(docs)
    assert backprop([numpy.ones_like(vectors)]) == []
    twice = module.conv.bias.grad.clone()
    module.zero_grad()
    (vectors,), backprop = layer.begin_update([nlp.make_doc("Paris")])
    backprop([numpy.ones_like(vectors)])
    torch.testing.assert_close(twice, 2 * module.conv.bias.grad)


# FeatureEmbed.v2's vectors_dropout: the static vectors' own rate, kept when
# spaCy sets the training dropout


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


def test_fixed_vectors_dropout_outlasts_the_training_dropout():
    embed, docs = embed_with_vectors(vectors_dropout=0.0)
    first, *others = training_outputs(embed, docs)
    for other in others:
        numpy.testing.assert_allclose(first, other, rtol=1e-6)
    numpy.testing.assert_allclose(first, embed.predict(docs)[0], rtol=1e-5, atol=1e-6)


def test_default_vectors_dropout_follows_the_training_dropout():
    embed, docs = embed_with_vectors()
    outputs = training_outputs(embed, docs)
    assert any(not numpy.allclose(outputs[0], other) for other in outputs[1:])


def test_a_vectors_dropout_outside_zero_to_one_is_refused():
    nlp = spacy.blank("en")
    embed = {**CNN_EMBED, "include_static_vectors": True, "vectors_dropout": 1.0}
    with pytest.raises(ValueError, match="FeatureEmbed vectors_dropout must be in.*1.0"):
        nlp.add_pipe("lstm_ner", config={"model": crf_config(embed=embed)})


# spaCy's own embeddings


def test_spacys_character_embed_feeds_the_tagger():
    embed = {
        "@architectures": "spacy.CharacterEmbed.v2",
        "width": 16,
        "rows": 500,
        "nM": 8,
        "nC": 4,
        "include_static_vectors": False,
    }
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=embed)})
    losses = train_pipeline(nlp, make_examples(nlp), n_iter=100)
    assert losses[-1] < losses[0] / 10


# WindowEmbed.v1: each token with its neighbours, within its doc

WORD_EMBED = {"@architectures": "spacy_lstm_ner.WordEmbed.v1", "width": 4, "rows": 50}


def test_window_embed_concatenates_each_tokens_neighbours_within_its_doc():
    window = registry.resolve(Config({"e": window_embed(1, WORD_EMBED)}))["e"]
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("the cat sat"), nlp.make_doc("dogs bark")]
    window.initialize()
    (words, _), (vectors, more) = window.layers[0].predict(docs), window.predict(docs)
    assert window.get_dim("nO") == 12 and vectors.shape == (3, 12) and more.shape == (2, 12)
    numpy.testing.assert_array_equal(vectors[1], numpy.concatenate(words))
    numpy.testing.assert_array_equal(vectors[0, :4], 0.0)
    numpy.testing.assert_array_equal(vectors[2, 8:], 0.0)
    numpy.testing.assert_array_equal(more[0, :4], 0.0)


def test_window_embed_trains_a_one_direction_crf_tagger_that_round_trips():
    embed = window_embed(2, embed=crf_config()["embed"])
    trained_and_reloaded(crf_config(embed=embed, bidirectional=False))


def test_a_window_size_below_one_is_refused():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="WindowEmbed window_size.*0"):
        nlp.add_pipe(
            "lstm_ner", config={"model": small_model_config(embed=window_embed(0, WORD_EMBED))}
        )
