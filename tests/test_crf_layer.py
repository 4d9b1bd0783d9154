"""The CRF as one thinc layer: its backprop increments its own start,
transition and end gradients, which match finite differences of CRFLoss."""
import numpy
import pytest
from thinc.api import NumpyOps

from spacy_lstm_ner.crf import ChainScores, CRFLoss, CRFOutput, crf_layer
from spacy_lstm_ner.tags import tag_names

TAGS = tag_names(["geo", "per"], "BILUO")
T = {tag: i for i, tag in enumerate(TAGS)}
GOLD = [
    numpy.array([T["B-geo"], T["L-geo"], T["O"], T["U-per"]]),
    numpy.array([-1, T["O"], -1]),
    numpy.array([T["U-geo"]]),
]


def random_layer(seed):
    rng = numpy.random.default_rng(seed)
    layer = crf_layer(nO=len(TAGS))
    layer.initialize()
    for name in ChainScores._fields:
        shape = layer.get_param(name).shape
        layer.set_param(name, rng.normal(scale=0.5, size=shape).astype("float32"))
    emissions = [rng.normal(size=(len(gold), len(TAGS))).astype("float32") for gold in GOLD]
    return layer, emissions


def loss_of(layer, emissions):
    output = layer.predict(emissions)
    return CRFLoss("BILUO").get_loss(output, GOLD)


@pytest.mark.parametrize("seed", range(3))
def test_layer_gradients_match_finite_differences(seed):
    layer, emissions = random_layer(seed)
    output, backprop = layer.begin_update(emissions)
    assert isinstance(output, CRFOutput) and output.emissions is emissions
    d_output, _ = CRFLoss("BILUO")(output, GOLD)
    d_emissions = backprop(d_output)
    eps = 1e-2
    for name in ChainScores._fields:
        gradient = layer.get_grad(name)
        values = layer.get_param(name)
        for index in numpy.ndindex(values.shape):
            bumped = values.copy()
            bumped[index] += eps
            layer.set_param(name, bumped)
            up = loss_of(layer, emissions)
            bumped[index] -= 2 * eps
            layer.set_param(name, bumped)
            down = loss_of(layer, emissions)
            layer.set_param(name, values)
            assert gradient[index] == pytest.approx((up - down) / (2 * eps), abs=2e-4), (name, index)
    for i, t, k in [(0, 0, T["B-geo"]), (0, 2, T["O"]), (1, 0, T["U-per"]), (2, 0, T["B-per"])]:
        bumped = [e.copy() for e in emissions]
        bumped[i][t, k] += eps
        up = loss_of(layer, bumped)
        bumped[i][t, k] -= 2 * eps
        down = loss_of(layer, bumped)
        assert d_emissions[i][t, k] == pytest.approx((up - down) / (2 * eps), abs=2e-4)


def test_forbidden_moves_get_no_gradient():
    layer, emissions = random_layer(4)
    output, backprop = layer.begin_update(emissions)
    backprop(CRFLoss("BILUO").get_grad(output, GOLD))
    gradient = layer.get_grad("transitions")
    assert gradient[T["O"], T["I-geo"]] == 0.0 and gradient[T["B-geo"], T["O"]] == 0.0
    assert gradient[T["B-geo"], T["L-geo"]] != 0.0


def test_loss_of_unannotated_docs_is_zero_with_zero_gradients():
    layer, emissions = random_layer(5)
    d_output, loss = CRFLoss("BILUO")(layer.predict(emissions), [numpy.full(len(g), -1) for g in GOLD])
    assert loss == 0.0
    assert not any(d.any() for d in d_output.emissions) and not any(d.any() for d in d_output.chain)
    assert isinstance(NumpyOps().asarray(d_output.chain.transitions), numpy.ndarray)
