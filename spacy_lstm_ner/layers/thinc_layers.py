"""Layers this package does not build, recognised so that the tagger's prediction
can take its fast path through them: thinc's `chain`, `with_array` and `LayerNorm`,
as the embedding of a user's config builds them, and spaCy's listeners.

thinc gives a layer no public mark of its kind. Its forward function, the private
`Model._func`, is the one that cannot be mistaken, so this module alone compares
it, with the forward functions of layers built here by thinc's public constructors;
a listener is known by the name every listener has. A layer that is not recognised
takes the plain path, and tests/test_thinc_layers.py fails if a thinc or spaCy
upgrade changes what this module relies on."""

from thinc.api import LayerNorm, Model, chain, noop, torch2xp, with_array, xp2torch
from thinc.types import Floats2d

_CHAIN_FORWARD = chain(noop(), noop())._func
_WITH_ARRAY_FORWARD = with_array(noop())._func
_LAYER_NORM_FORWARD = LayerNorm()._func


def is_chain(layer: Model) -> bool:
    """Whether `layer` is a thinc `chain`: its layers applied in turn."""
    return layer._func is _CHAIN_FORWARD


def is_unpadded_with_array(layer: Model) -> bool:
    """Whether `layer` is a thinc `with_array` without padding: its one layer
    applied to the rows of all sequences at once, as to one array."""
    return layer._func is _WITH_ARRAY_FORWARD and not layer.attrs.get("pad")


def is_listener(layer: Model) -> bool:
    """Whether `layer` is a listener (spaCy's `tok2vec-listener`,
    spacy-transformers' `transformer-listener`), whose output comes from another
    component's pass over whole docs."""
    return "listener" in layer.name


def predict_array(layer: Model, X: Floats2d) -> Floats2d:
    """`layer.predict(X)`; a thinc `LayerNorm` runs as PyTorch's fused layer norm,
    the same formula (its 1e-8 added to the variance) at a quarter of the time."""
    if layer._func is not _LAYER_NORM_FORWARD or not X.size:
        return layer.predict(X)
    import torch

    G, b = (xp2torch(layer.get_param(name)) for name in ("G", "b"))
    with torch.no_grad():
        Y = torch.nn.functional.layer_norm(xp2torch(X), (X.shape[1],), G, b, eps=1e-8)
    return torch2xp(Y)
