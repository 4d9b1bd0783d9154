"""The trainer's dropout reaches the LSTM, the seed governs every initial weight,
and update is begin_update → get_loss → backprop → finish_update for both heads."""

import gc

import numpy
import pytest
import spacy
from spacy.util import fix_random_seed
from thinc.api import Adam, set_dropout_rate
from util import CHARS_EMBED, crf_config, make_examples, small_model_config

HEADS = {"softmax": small_model_config, "crf": crf_config}


def initialized(model_config):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": model_config})
    nlp.initialize(lambda: make_examples(nlp))
    return nlp


def outputs(model, docs, is_train):
    if is_train:
        scores, _ = model.begin_update(docs)
    else:
        scores = model.predict(docs)
    emissions = scores.emissions if hasattr(scores, "emissions") else scores
    return numpy.concatenate([model.ops.to_numpy(s) for s in emissions])


@pytest.mark.parametrize("head", HEADS)
def test_trainer_dropout_reaches_the_lstm_and_prediction_never_drops(head):
    nlp = initialized(HEADS[head](dropout=0.0))
    model = nlp.get_pipe("lstm_ner").model
    docs = [eg.predicted for eg in make_examples(nlp)]
    set_dropout_rate(model, 0.5)
    assert not numpy.array_equal(outputs(model, docs, True), outputs(model, docs, True))
    predicted = outputs(model, docs, False)
    numpy.testing.assert_array_equal(predicted, outputs(model, docs, False))
    set_dropout_rate(model, 0.0)
    numpy.testing.assert_array_equal(outputs(model, docs, True), outputs(model, docs, True))
    numpy.testing.assert_allclose(outputs(model, docs, True), predicted, rtol=1e-5, atol=1e-6)


def test_update_sets_the_lstm_dropout_to_the_trainers_rate():
    nlp = initialized(small_model_config(dropout=0.2))
    examples = make_examples(nlp)
    nlp.update(examples, drop=0.5)
    assert nlp.get_pipe("lstm_ner").model.get_ref("lstm").attrs["dropout_rate"] == 0.5


def initial_weights(seed):
    fix_random_seed(seed)
    nlp = initialized(crf_config(embed=CHARS_EMBED))
    model = nlp.get_pipe("lstm_ner").model
    chars = next(node for node in model.walk() if node.name == "character_embed")
    return model.to_bytes(), chars.get_param("E").copy()


def test_seed_governs_every_initial_weight():
    weights, chars = initial_weights(0)
    same_weights, same_chars = initial_weights(0)
    other_weights, other_chars = initial_weights(1)
    assert weights == same_weights
    assert weights != other_weights
    assert not numpy.array_equal(chars, other_chars)


@pytest.mark.parametrize("head", HEADS)
def test_update_is_get_loss_backprop_and_finish_update(head):
    examples_nlp = initialized(HEADS[head]())
    twin = spacy.blank("en")
    twin.add_pipe("lstm_ner", config={"model": HEADS[head]()})
    twin.from_bytes(examples_nlp.to_bytes())
    examples = make_examples(examples_nlp)
    examples_nlp.update(examples, sgd=Adam(0.01), drop=0.0)
    ner = twin.get_pipe("lstm_ner")
    scores, backprop = ner.model.begin_update([eg.predicted for eg in examples])
    _, d_scores = ner.get_loss(examples, scores)
    backprop(d_scores)
    ner.finish_update(Adam(0.01))
    assert ner.model.to_bytes() == examples_nlp.get_pipe("lstm_ner").model.to_bytes()
    if head == "crf":
        transitions = ner.model.get_ref("crf").get_param("transitions")
        assert numpy.abs(transitions).max() > 0.0


def test_updates_leave_no_tensors_behind():
    """The optimizer updates the LSTM's weights in place: thinc's PyTorchShim
    left a chain of views to the old weights, one link per step and parameter,
    and training memory grew with it."""
    import torch

    nlp = initialized(small_model_config())
    optimizer = Adam(0.01)

    def n_tensors():
        gc.collect()
        return sum(issubclass(type(obj), torch.Tensor) for obj in gc.get_objects())

    module = nlp.get_pipe("lstm_ner").model.get_ref("lstm").shims[0].module
    nlp.update(make_examples(nlp), sgd=optimizer)
    weights = [param.detach().clone() for param in module.parameters()]
    before = n_tensors()
    for _ in range(5):
        nlp.update(make_examples(nlp), sgd=optimizer)
    assert n_tensors() == before
    assert all(not torch.equal(old, new) for old, new in zip(weights, module.parameters()))


def test_use_params_gives_the_lstm_its_averages_too():
    """With `use_averages`, the trainer evaluates and saves inside
    `nlp.use_params(optimizer.averages)`: the LSTM's weights are then its
    averages, as every other layer's are, and its own weights come back after."""
    nlp = initialized(small_model_config())
    examples = make_examples(nlp)
    optimizer = Adam(0.01, use_averages=True)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    shim = nlp.get_pipe("lstm_ner").model.get_ref("lstm").shims[0]
    trained = {
        name: param.detach().numpy().copy() for name, param in shim.module.named_parameters()
    }
    with nlp.use_params(optimizer.averages):
        for name, param in shim.module.named_parameters():
            numpy.testing.assert_array_equal(
                param.detach().numpy(), optimizer.averages[shim.id, name]
            )
            assert not numpy.array_equal(param.detach().numpy(), trained[name])
    for name, param in shim.module.named_parameters():
        numpy.testing.assert_array_equal(param.detach().numpy(), trained[name])
