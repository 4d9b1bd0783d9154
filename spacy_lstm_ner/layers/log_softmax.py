"""Row-wise log-softmax as a thinc layer."""

from typing import Callable, Tuple

from thinc.api import Model
from thinc.types import Floats2d


def log_softmax() -> Model[Floats2d, Floats2d]:
    """Row-wise log-softmax: scores to log-probabilities."""
    return Model("log_softmax", _log_softmax_forward, attrs={"log_softmax": True})


def is_log_softmax(layer: Model) -> bool:
    """Whether `layer` was built by `log_softmax`."""
    return layer.attrs.get("log_softmax") is True


def _log_softmax_forward(model: Model, X: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    xp = model.ops.xp
    shifted = X - X.max(axis=1, keepdims=True)
    Y = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))

    def backprop(dY: Floats2d) -> Floats2d:
        return dY - xp.exp(Y) * dY.sum(axis=1, keepdims=True)

    return Y, backprop
