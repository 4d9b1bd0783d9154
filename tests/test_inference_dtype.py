"""`inference_dtype`: the LSTM predicts in bfloat16 where asked (or, with "auto",
where the CPU runs it natively), trains in float32, and predicts what float32 does."""

import numpy
import pytest
import spacy
import torch
from thinc.api import Adam, set_dropout_rate
from util import TRAIN_DATA, crf_config, make_examples, overfit_pipeline, small_model_config

from spacy_lstm_ner.layers import torch_lstm

HEADS = {"softmax": small_model_config, "crf": crf_config}


def emissions(ner, docs):
    output = ner.model.predict(docs)
    return [
        ner.model.ops.to_numpy(doc_scores) for doc_scores in getattr(output, "emissions", output)
    ]


def with_dtype(nlp, dtype):
    """`nlp` reloaded with its LSTM predicting in `dtype`, the same weights."""
    config = nlp.config.copy()
    config["components"]["lstm_ner"]["model"]["inference_dtype"] = dtype
    other = spacy.util.load_model_from_config(config)
    other.from_bytes(nlp.to_bytes())
    return other


@pytest.fixture(scope="module", params=sorted(HEADS))
def nlp(request):
    return overfit_pipeline(HEADS[request.param]())


def test_bfloat16_predicts_what_float32_does(nlp):
    half = with_dtype(nlp, "bfloat16")
    texts = [text for text, _ in TRAIN_DATA]
    docs = [nlp.make_doc(text) for text in texts]
    full_scores, half_scores = (
        emissions(nlp.get_pipe("lstm_ner"), docs),
        emissions(half.get_pipe("lstm_ner"), docs),
    )
    for full, part in zip(full_scores, half_scores):
        assert part.dtype == full.dtype == numpy.float32
        assert not numpy.array_equal(part, full)
        numpy.testing.assert_allclose(part, full, atol=0.15)
    assert [[(e.start, e.end, e.label_) for e in doc.ents] for doc in half.pipe(texts)] == [
        [(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)
    ]


def test_bfloat16_long_docs_run_in_windows_as_one_pass(nlp):
    half = with_dtype(nlp, "bfloat16")
    ner = half.get_pipe("lstm_ner")
    lstm = ner.model.get_ref("lstm")
    doc = half.make_doc(" ".join(text for text, _ in TRAIN_DATA) * 3)
    lstm.attrs["window"] = 10**9
    (one_pass,) = emissions(ner, [doc])
    lstm.attrs["window"] = 9
    (windowed,) = emissions(ner, [doc])
    numpy.testing.assert_allclose(windowed, one_pass, atol=0.15)


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bfloat16_only_where_the_cpu_runs_it_natively(nlp, monkeypatch, native):
    monkeypatch.setattr(torch_lstm, "native_bfloat16_cpu", lambda: native)
    docs = [nlp.make_doc(text) for text, _ in TRAIN_DATA]
    auto = emissions(with_dtype(nlp, "auto").get_pipe("lstm_ner"), docs)
    expected = emissions(
        with_dtype(nlp, "bfloat16" if native else "float32").get_pipe("lstm_ner"), docs
    )
    for got, want in zip(auto, expected):
        numpy.testing.assert_array_equal(got, want)


def test_training_runs_in_float32():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(inference_dtype="bfloat16")})
    nlp.initialize(lambda: make_examples(nlp))
    lstm = ner.model.get_ref("lstm")
    set_dropout_rate(ner.model, 0.0)
    module = lstm.shims[0].module
    X = ner.model.get_ref("embed").predict([nlp.make_doc(TRAIN_DATA[0][0])])
    Y, backprop = lstm.begin_update(X)
    assert module.training and Y[0].dtype == numpy.float32
    dX = backprop([numpy.ones_like(y) for y in Y])
    assert all(
        param.grad is not None and param.grad.dtype == torch.float32
        for param in module.parameters()
    )
    assert dX[0].dtype == numpy.float32
    assert all(param.dtype == torch.float32 for param in module.parameters())


def test_bfloat16_predicts_with_the_current_weights():
    """The LSTM's bfloat16 weight copies follow the float32 weights: after
    optimizer steps, and inside `use_params` (the trainer's averages)."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(inference_dtype="bfloat16")})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples, sgd=Adam(0.01, use_averages=True))
    docs = [eg.predicted for eg in examples]

    def fresh_copy_emissions():
        return emissions(with_dtype(nlp, "bfloat16").get_pipe("lstm_ner"), docs)

    before = emissions(ner, docs)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    after = emissions(ner, docs)
    assert not numpy.array_equal(after[0], before[0])
    for got, want in zip(after, fresh_copy_emissions()):
        numpy.testing.assert_array_equal(got, want)
    with nlp.use_params(optimizer.averages):
        averaged, want_averaged = emissions(ner, docs), fresh_copy_emissions()
    assert not numpy.array_equal(averaged[0], after[0])
    for got, want in zip(averaged, want_averaged):
        numpy.testing.assert_array_equal(got, want)
    for got, want in zip(emissions(ner, docs), after):
        numpy.testing.assert_array_equal(got, want)


def test_unknown_inference_dtype_fails_naming_it():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="BiLSTMTagger inference_dtype .*'float16'"):
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(inference_dtype="float16")})
