"""What `spacy_lstm_ner.layers.thinc_layers` relies on in thinc and spaCy: a thinc
or spaCy upgrade that changes it fails here, not silently in the tagger's fast
path. That the fast path predicts the plain chain's scores is
test_model.py's test_prediction_gives_the_scores_of_the_plain_chain."""

import numpy
import spacy
from spacy.pipeline.tok2vec import Tok2VecListener
from thinc.api import LayerNorm, Linear, Relu, chain, noop, with_array
from util import CHARS_EMBED, make_examples, small_model_config

from spacy_lstm_ner.layers import log_softmax
from spacy_lstm_ner.layers.log_softmax import is_log_softmax
from spacy_lstm_ner.layers.thinc_layers import (
    is_chain,
    is_listener,
    is_unpadded_with_array,
    predict_array,
)


def test_chain_is_recognised_whatever_its_layers():
    assert is_chain(chain(Linear(), Relu()))
    assert is_chain(chain(noop(), Linear(), with_array(Linear())))
    assert not is_chain(with_array(Linear()))
    assert not is_chain(Linear())


def test_with_array_is_recognised_unless_it_pads():
    assert is_unpadded_with_array(with_array(Linear()))
    assert is_unpadded_with_array(with_array(chain(Linear(), Relu())))
    assert not is_unpadded_with_array(with_array(Linear(), pad=1))
    assert not is_unpadded_with_array(chain(Linear(), Relu()))


def test_spacy_listeners_are_recognised():
    assert is_listener(Tok2VecListener(upstream_name="*", width=8))
    assert not any(is_listener(node) for node in chain(Linear(), with_array(Linear())).walk())


def test_layer_norm_predicts_as_thinc_does():
    X = numpy.random.default_rng(0).normal(2.0, 3.0, (7, 5)).astype("float32")
    layer = LayerNorm(nI=5)
    layer.initialize(X=X)
    layer.set_param("G", numpy.linspace(0.5, 2.0, 5, dtype="float32"))
    layer.set_param("b", numpy.linspace(-1.0, 1.0, 5, dtype="float32"))
    numpy.testing.assert_allclose(predict_array(layer, X), layer.predict(X), rtol=1e-5, atol=1e-6)
    empty = numpy.zeros((0, 5), dtype="float32")
    assert predict_array(layer, empty).shape == (0, 5)


def test_the_tagger_fast_path_recognises_the_layers_it_is_built_from():
    """FeatureEmbed's chain of `with_array` steps runs on one array, and the
    head is the dense layer and log-softmax that the tagger runs in PyTorch."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(embed=CHARS_EMBED)})
    nlp.initialize(lambda: make_examples(nlp))
    embed_layer, _, head = ner.model.layers[:3]
    assert is_chain(embed_layer)
    assert all(is_unpadded_with_array(step) for step in embed_layer.layers[1:])
    assert is_unpadded_with_array(head) and is_chain(head.layers[0])
    dense, normalize = head.layers[0].layers
    assert dense is ner.model.get_ref("output_layer") and is_log_softmax(normalize)
    assert not any(is_listener(node) for node in ner.model.walk())


def test_log_softmax_is_known_by_its_attrs_after_loading():
    layer = log_softmax()
    assert is_log_softmax(layer.from_bytes(log_softmax().to_bytes()))
    assert not is_log_softmax(Linear())
