"""The linear-chain CRF as a thinc layer: it owns the start, transition and end
scores and passes them on with the emissions, which `heads.CRFHead` makes
into potentials and trains with `losses.CRFLoss`."""

from typing import Callable, List, NamedTuple, Optional, Tuple

from thinc.api import Model
from thinc.types import Floats2d

from ..potentials import ChainScores


class CRFOutput(NamedTuple):
    """What the CRF layer outputs, and the shape of its gradient."""

    emissions: List[Floats2d]  # (n_tokens, n_tags) score of each tag, per doc
    chain: ChainScores  # the layer's learned scores, every move still allowed


def crf_layer(nO: Optional[int] = None) -> Model[List[Floats2d], CRFOutput]:
    """A linear-chain CRF over per-token emission scores. Forward passes the
    emissions on together with the layer's start, transition and end scores;
    backprop increments those scores' gradients and returns the emissions'."""
    return Model(
        "crf",
        _crf_forward,
        init=_crf_init,
        dims={"nO": nO},
        params={name: None for name in ChainScores._fields},
    )


def _crf_init(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    if not model.has_dim("nO") and X:
        model.set_dim("nO", X[0].shape[1])
    n_tags = model.get_dim("nO")
    model.set_param("start", model.ops.alloc1f(n_tags))
    model.set_param("transitions", model.ops.alloc2f(n_tags, n_tags))
    model.set_param("end", model.ops.alloc1f(n_tags))


def _crf_forward(
    model: Model, emissions: List[Floats2d], is_train: bool
) -> Tuple[CRFOutput, Callable]:
    chain = ChainScores(*(model.get_param(name) for name in ChainScores._fields))

    def backprop(d_output: CRFOutput) -> List[Floats2d]:
        for name, gradient in zip(ChainScores._fields, d_output.chain):
            model.inc_grad(name, gradient)
        return d_output.emissions

    return CRFOutput(emissions, chain), backprop
