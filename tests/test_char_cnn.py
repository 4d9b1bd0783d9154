"""The character CNN of FeatureEmbed.v2: one vector per distinct word, whole
words read, gradients reaching the CNN, settings checked, saved and loaded."""

import numpy
import pytest
import spacy
from spacy.util import make_tempdir, registry
from thinc.api import Config, fix_random_seed
from util import CNN_EMBED, crf_config, make_examples, train_pipeline

from spacy_lstm_ner.layers.char_cnn import char_cnn, word_bytes


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
def test_bad_settings_fail_at_construction(setting, value, message):
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


def test_trained_pipeline_round_trips_with_identical_predictions():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": crf_config(embed=CNN_EMBED)})
    losses = train_pipeline(nlp, make_examples(nlp), n_iter=60)
    assert losses[-1] < losses[0] / 5
    texts = ["Angela Merkel visited Paris.", "Apple opened an office in Berlin."]
    expected = [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    assert any(expected)
    with make_tempdir() as path:
        nlp.to_disk(path)
        loaded = spacy.load(path)
    assert [[(e.text, e.label_) for e in doc.ents] for doc in loaded.pipe(texts)] == expected
    for text in texts:
        numpy.testing.assert_allclose(
            loaded.get_pipe("lstm_ner").model.predict([loaded.make_doc(text)]).emissions[0],
            nlp.get_pipe("lstm_ner").model.predict([nlp.make_doc(text)]).emissions[0],
            rtol=1e-5,
            atol=1e-6,
        )
