"""thinc layers of the tagger: a packed (padding-proof) PyTorch LSTM and log-softmax."""
from typing import Callable, List, Optional, Tuple

import torch
from thinc.api import ArgsKwargs, Model, PyTorchShim, torch2xp, xp2torch
from thinc.types import Floats2d
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class PackedLSTM(torch.nn.Module):
    """An LSTM over a zero-padded batch that packs the sequences first, so the
    padding never reaches a real token in either direction. The input width
    may be left open: it is fixed by `build`, or by the weights being loaded."""

    def __init__(
        self,
        nI: Optional[int],
        hidden_width: int,
        depth: int,
        bidirectional: bool,
        dropout: float,
    ):
        super().__init__()
        self.hidden_width = hidden_width
        self.depth = depth
        self.bidirectional = bidirectional
        self.dropout = torch.nn.Dropout(dropout)
        self.lstm: Optional[torch.nn.LSTM] = None
        if nI is not None:
            self.build(nI)

    @property
    def nO(self) -> int:
        return self.hidden_width * (2 if self.bidirectional else 1)

    def build(self, nI: int, device: Optional[torch.device] = None) -> None:
        self.lstm = torch.nn.LSTM(
            nI,
            self.hidden_width,
            num_layers=self.depth,
            bidirectional=self.bidirectional,
            dropout=self.dropout.p if self.depth > 1 else 0.0,
            batch_first=True,
            device=device,
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        weights = state_dict.get(f"{prefix}lstm.weight_ih_l0")
        if self.lstm is None and weights is not None:
            self.build(weights.shape[1], device=weights.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.lstm is None:
            raise ValueError("PackedLSTM was used before its input width was set.")
        n_seqs, n_steps, _ = X.shape
        if n_steps == 0:
            return X.new_zeros((n_seqs, 0, self.nO))
        packed = pack_padded_sequence(
            self.dropout(X), lengths.clamp(min=1), batch_first=True, enforce_sorted=False
        )
        output, _ = self.lstm(packed)
        Y, _ = pad_packed_sequence(output, batch_first=True, total_length=n_steps)
        return self.dropout(Y)


def packed_lstm(
    nI: Optional[int],
    hidden_width: int,
    *,
    depth: int,
    bidirectional: bool,
    dropout: float,
) -> Model[List[Floats2d], List[Floats2d]]:
    """Wrap a `PackedLSTM`: one (n_tokens, nI) array per doc in, one
    (n_tokens, nO) array per doc out."""
    module = PackedLSTM(nI, hidden_width, depth, bidirectional, dropout)
    return Model(
        "packed_lstm",
        _packed_lstm_forward,
        init=_packed_lstm_init,
        shims=[PyTorchShim(module)],
        dims={"nI": nI, "nO": module.nO},
    )


def _packed_lstm_init(
    model: Model, X: Optional[List[Floats2d]] = None, Y=None
) -> None:
    module = model.shims[0]._model
    if module.lstm is not None:
        return
    if not model.has_dim("nI") and X:
        model.set_dim("nI", X[0].shape[1])
    if not model.has_dim("nI"):
        raise ValueError(
            "Cannot size the LSTM: its input width is unknown. Initialize the "
            "model with sample docs or use an embed layer with a known width."
        )
    module.build(model.get_dim("nI"), device=model.shims[0].device)


def _packed_lstm_forward(
    model: Model, Xs: List[Floats2d], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    if not Xs:
        return [], lambda dYs: []
    ops = model.ops
    shim = model.shims[0]
    lengths = [len(X) for X in Xs]
    Xt = xp2torch(ops.pad(Xs), requires_grad=is_train, device=shim.device)
    Yt, torch_backprop = shim(
        ArgsKwargs(args=(Xt, torch.tensor(lengths, dtype=torch.int64)), kwargs={}),
        is_train,
    )
    Ys = ops.unpad(torch2xp(Yt), lengths)

    def backprop(dYs: List[Floats2d]) -> List[Floats2d]:
        dYt = xp2torch(ops.pad(dYs), device=shim.device)
        dXt = torch_backprop(ArgsKwargs(args=(Yt,), kwargs={"grad_tensors": dYt}))
        return ops.unpad(torch2xp(dXt.args[0]), lengths)

    return Ys, backprop


def log_softmax() -> Model[Floats2d, Floats2d]:
    """Row-wise log-softmax: scores to log-probabilities."""
    return Model("log_softmax", _log_softmax_forward)


def _log_softmax_forward(
    model: Model, X: Floats2d, is_train: bool
) -> Tuple[Floats2d, Callable]:
    xp = model.ops.xp
    shifted = X - X.max(axis=1, keepdims=True)
    Y = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))

    def backprop(dY: Floats2d) -> Floats2d:
        return dY - xp.exp(Y) * dY.sum(axis=1, keepdims=True)

    return Y, backprop
