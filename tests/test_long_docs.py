"""Long docs are predicted window by window with the LSTM's state carried across
windows: the same scores and entities as one pass, whatever the window."""

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from util import (
    CHARS_EMBED,
    crf_config,
    make_examples,
    overfit_pipeline,
    small_model_config,
    window_embed,
)

SENTENCE = ["Angela", "Merkel", "visited", "Paris", "on", "Monday", "with", "Barack", "Obama", "."]


def long_doc(nlp, n_tokens):
    return Doc(nlp.vocab, words=(SENTENCE * (n_tokens // len(SENTENCE) + 1))[:n_tokens])


def scores(model, docs):
    output = model.predict(docs)
    emissions = output.emissions if hasattr(output, "emissions") else output
    return [model.ops.to_numpy(doc_scores) for doc_scores in emissions]


MODELS = {
    "bilstm": small_model_config(),
    "bilstm-depth-2": small_model_config(depth=2),
    "lstm": small_model_config(bidirectional=False),
    "crf-chars": crf_config(embed=CHARS_EMBED),
    "crf-doc-pool": crf_config(doc_pool_attr="LOWER"),
    "lstm-crf-neighbours": crf_config(
        bidirectional=False, embed=window_embed(2, small_model_config()["embed"])
    ),
    "bilstm-spacy-tok2vec": small_model_config(
        embed={
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": small_model_config()["embed"],
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 32,
                "depth": 2,
                "window_size": 1,
                "maxout_pieces": 2,
            },
        }
    ),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def nlp(request):
    return overfit_pipeline(MODELS[request.param])


@pytest.mark.parametrize("window", [1, 7, 50])
def test_windows_give_the_scores_of_one_pass(nlp, window):
    model = nlp.get_pipe("lstm_ner").model
    lstm = model.get_ref("lstm")
    docs = [long_doc(nlp, 203), long_doc(nlp, 5), long_doc(nlp, 64)]
    default = lstm.attrs["window"]
    try:
        lstm.attrs["window"] = 10**9
        one_pass = scores(model, docs)
        lstm.attrs["window"] = window
        windowed = scores(model, docs)
    finally:
        lstm.attrs["window"] = default
    for whole, parts in zip(one_pass, windowed):
        numpy.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-6)


def test_windows_give_the_entities_of_one_pass(nlp):
    lstm = nlp.get_pipe("lstm_ner").model.get_ref("lstm")
    text = " ".join(SENTENCE * 30)
    default = lstm.attrs["window"]
    try:
        lstm.attrs["window"] = 10**9
        whole = [(ent.start, ent.end, ent.label_) for ent in nlp(text).ents]
        lstm.attrs["window"] = 13
        windowed = [(ent.start, ent.end, ent.label_) for ent in nlp(text).ents]
    finally:
        lstm.attrs["window"] = default
    assert windowed == whole and len(whole) > 30


def test_window_is_a_config_setting_that_must_be_positive():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(window=100)})
    assert ner.model.get_ref("lstm").attrs["window"] == 100
    with pytest.raises(ValueError, match="window must be a positive integer"):
        spacy.blank("en").add_pipe("lstm_ner", config={"model": small_model_config(window=0)})


def test_training_on_a_long_doc_takes_one_pass():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": small_model_config(window=4)})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    losses = nlp.update(examples, sgd=optimizer)
    assert losses["lstm_ner"] > 0
