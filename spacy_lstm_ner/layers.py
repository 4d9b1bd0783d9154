"""thinc layers of the tagger: a padding-proof PyTorch (Bi)LSTM and log-softmax."""
import os
from typing import Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from thinc.api import ArgsKwargs, Model, PyTorchShim, torch2xp, xp2torch
from thinc.types import Floats2d


def _one_torch_thread_after_fork() -> None:
    """torch's OpenMP thread pool does not survive fork(): a forked worker, such
    as those of `nlp.pipe(n_process=N)`, would hang in its first LSTM call. One
    thread per worker also keeps N workers from fighting over the cores."""
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_one_torch_thread_after_fork)


class PaddedLSTM(torch.nn.Module):
    """A (bi)LSTM over a batch of right-padded sequences in which the padding
    never reaches a real token: the left-to-right pass meets padding only after
    a sequence's last token, and the right-to-left pass runs left to right over
    each sequence reversed within its own length. The input width may be left
    open: it is fixed by `build`, or by the weights being loaded."""

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
        self.forward_layers = torch.nn.ModuleList()
        self.backward_layers = torch.nn.ModuleList()
        if nI is not None:
            self.build(nI)

    @property
    def nO(self) -> int:
        return self.hidden_width * (2 if self.bidirectional else 1)

    @property
    def is_built(self) -> bool:
        return len(self.forward_layers) > 0

    def build(self, nI: int, device: Optional[torch.device] = None) -> None:
        for i in range(self.depth):
            width = nI if i == 0 else self.nO
            self.forward_layers.append(self._lstm(width, device))
            if self.bidirectional:
                self.backward_layers.append(self._lstm(width, device))

    def _lstm(self, nI: int, device: Optional[torch.device]) -> torch.nn.LSTM:
        return torch.nn.LSTM(nI, self.hidden_width, batch_first=True, device=device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        weights = state_dict.get(f"{prefix}forward_layers.0.weight_ih_l0")
        if not self.is_built and weights is not None:
            self.build(weights.shape[1], device=weights.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.is_built:
            raise ValueError("The LSTM was used before its input width was set.")
        n_seqs, n_steps, _ = X.shape
        if n_steps == 0:
            return X.new_zeros((n_seqs, 0, self.nO))
        if self.bidirectional:
            steps = torch.arange(n_steps, device=X.device)[None]
            ends = lengths.to(X.device)[:, None]
            reverse = torch.where(steps < ends, ends - 1 - steps, steps)[..., None]
        Y = self.dropout(X)
        for i, forward_layer in enumerate(self.forward_layers):
            Y_forward, _ = forward_layer(Y)
            if self.bidirectional:
                Y_reversed = Y.gather(1, reverse.expand(-1, -1, Y.shape[2]))
                Y_backward, _ = self.backward_layers[i](Y_reversed)
                Y_backward = Y_backward.gather(1, reverse.expand(-1, -1, self.hidden_width))
                Y_forward = torch.cat([Y_forward, Y_backward], dim=2)
            Y = self.dropout(Y_forward)
        return Y


def padded_lstm(
    nI: Optional[int],
    hidden_width: int,
    *,
    depth: int,
    bidirectional: bool,
    dropout: float,
    chunk_size: int,
) -> Model[List[Floats2d], List[Floats2d]]:
    """Wrap a `PaddedLSTM`: one (n_tokens, nI) array per doc in, one
    (n_tokens, nO) array per doc out; docs of similar length are padded and
    run together, `chunk_size` docs at a time."""
    module = PaddedLSTM(nI, hidden_width, depth, bidirectional, dropout)
    return Model(
        "padded_lstm",
        _padded_lstm_forward,
        init=_padded_lstm_init,
        shims=[PyTorchShim(module)],
        dims={"nI": nI, "nO": module.nO},
        attrs={"chunk_size": chunk_size},
    )


def _padded_lstm_init(
    model: Model, X: Optional[List[Floats2d]] = None, Y=None
) -> None:
    module = model.shims[0]._model
    if module.is_built:
        return
    if not model.has_dim("nI") and X:
        model.set_dim("nI", X[0].shape[1])
    if not model.has_dim("nI"):
        raise ValueError(
            "Cannot size the LSTM: its input width is unknown. Initialize the "
            "model with sample docs or use an embed layer with a known width."
        )
    module.build(model.get_dim("nI"), device=model.shims[0].device)


def _padded_lstm_forward(
    model: Model, Xs: List[Floats2d], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    """Run the docs sorted by length, `chunk_size` at a time, so that little
    of each padded chunk is padding."""
    size = model.attrs["chunk_size"]
    order = numpy.argsort([len(X) for X in Xs], kind="stable")
    chunks = [order[start : start + size] for start in range(0, len(order), size)]
    Ys: List[Floats2d] = [None] * len(Xs)  # type: ignore[list-item]
    callbacks = []
    for chunk in chunks:
        chunk_Ys, chunk_backprop = _run_padded(model, [Xs[i] for i in chunk], is_train)
        for i, Y in zip(chunk, chunk_Ys):
            Ys[i] = Y
        callbacks.append((chunk, chunk_backprop))

    def backprop(dYs: List[Floats2d]) -> List[Floats2d]:
        dXs: List[Floats2d] = [None] * len(dYs)  # type: ignore[list-item]
        for chunk, chunk_backprop in callbacks:
            for i, dX in zip(chunk, chunk_backprop([dYs[i] for i in chunk])):
                dXs[i] = dX
        return dXs

    return Ys, backprop


def _run_padded(
    model: Model, Xs: List[Floats2d], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
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


def crf_transitions(nO: Optional[int] = None) -> Model[List[Floats2d], List[Floats2d]]:
    """Holds a linear-chain CRF's learned start, transition and end scores and
    passes the emission scores through unchanged: the component reads the
    scores to decode and adds their gradients from the CRF likelihood."""
    return Model(
        "crf",
        _pass_through,
        init=_init_crf,
        dims={"nO": nO},
        params={"start": None, "transitions": None, "end": None},
    )


def _pass_through(model: Model, Xs: List[Floats2d], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    return Xs, lambda dXs: dXs


def _init_crf(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    if not model.has_dim("nO") and X:
        model.set_dim("nO", X[0].shape[1])
    n_tags = model.get_dim("nO")
    model.set_param("start", model.ops.alloc1f(n_tags))
    model.set_param("transitions", model.ops.alloc2f(n_tags, n_tags))
    model.set_param("end", model.ops.alloc1f(n_tags))


def character_embed(n_chars: int, width: int) -> Model[List[Doc], List[Floats2d]]:
    """A learned vector per UTF-8 byte of each token's first and last
    `n_chars // 2` characters, one table per position, concatenated: spaCy's
    character embedding, with gradients that add up over repeated bytes."""
    return Model(
        "character_embed",
        _character_embed_forward,
        init=_init_character_embed,
        dims={"nC": n_chars, "nM": width, "nO": n_chars * width},
        params={"E": None},
    )


def _init_character_embed(model: Model, X=None, Y=None) -> None:
    n_chars, width = model.get_dim("nC"), model.get_dim("nM")
    table = numpy.random.default_rng(11).normal(scale=0.1, size=(n_chars * 256, width))
    model.set_param("E", model.ops.asarray2f(table, dtype="float32"))


def _character_embed_forward(
    model: Model, docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    n_chars, width = model.get_dim("nC"), model.get_dim("nM")
    E = model.get_param("E")
    offsets = model.ops.xp.arange(n_chars, dtype="int64") * 256
    rows = [
        model.ops.asarray(doc.to_utf8_array(nr_char=n_chars), dtype="int64") + offsets
        for doc in docs
    ]
    vectors = [E[doc_rows].reshape((len(doc_rows), n_chars * width)) for doc_rows in rows]

    def backprop(d_vectors: List[Floats2d]) -> List:
        dE = model.ops.alloc2f(*E.shape)
        for doc_rows, d_doc in zip(rows, d_vectors):
            model.ops.scatter_add(dE, doc_rows.ravel(), d_doc.reshape((-1, width)))
        model.inc_grad("E", dE)
        return []

    return vectors, backprop
