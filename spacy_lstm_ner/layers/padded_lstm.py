"""A padding-proof (Bi)LSTM over per-token vectors: the docs of a batch run
sorted by length, a chunk at a time. PyTorch is imported when it is built."""

from typing import Callable, List, Optional, Tuple

import numpy
from thinc.api import ArgsKwargs, Model, torch2xp, xp2torch
from thinc.types import Floats2d

INFERENCE_DTYPES = ("float32", "bfloat16", "auto")


def padded_lstm(
    nI: Optional[int],
    hidden_width: int,
    *,
    depth: int,
    bidirectional: bool,
    dropout: float,
    chunk_size: int,
    window: int,
    inference_dtype: str = "float32",
    variational_dropout: bool = False,
) -> Model[List[Floats2d], List[Floats2d]]:
    """Wrap a `PaddedLSTM`: one (n_tokens, nI) array per doc in, one
    (n_tokens, nO) array per doc out; docs of similar length are padded and
    run together, `chunk_size` docs at a time. `dropout` is the rate until
    `set_dropout_rate` (the trainer's `[training] dropout`) sets another;
    prediction never drops. `window` is read by `tagger_chain`. The LSTM
    predicts in `inference_dtype` (see `PaddedLSTM.prediction_dtype`). With
    `variational_dropout`, a sequence drops the same units at every step."""
    try:
        from .torch_lstm import InPlaceShim, PaddedLSTM
    except ImportError as error:
        raise ImportError(
            "lstm_ner's LSTM needs PyTorch: pip install torch (see the README)."
        ) from error
    module = PaddedLSTM(
        nI, hidden_width, depth, bidirectional, inference_dtype, variational_dropout
    )
    return Model(
        "padded_lstm",
        _padded_lstm_forward,
        init=_padded_lstm_init,
        shims=[InPlaceShim(module)],
        dims={"nI": nI, "nO": module.nO},
        attrs={"chunk_size": chunk_size, "dropout_rate": dropout, "window": window},
    )


def _padded_lstm_init(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    module = model.shims[0].module
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
    return _run_chunks(model, Xs, lambda chunk: _run_padded(model, chunk, is_train))


def _run_chunks(
    model: Model,
    Xs: List[Floats2d],
    run: Callable[[List[Floats2d]], Tuple[List[Floats2d], Callable]],
) -> Tuple[List[Floats2d], Callable]:
    """`run` over `length_chunks` of `chunk_size` docs; outputs in the docs' order."""
    from .torch_lstm import one_thread_in_forked_child

    one_thread_in_forked_child()
    Ys: List[Floats2d] = [None] * len(Xs)  # type: ignore[list-item]
    callbacks = []
    for chunk in length_chunks([len(X) for X in Xs], model.attrs["chunk_size"]):
        chunk_Ys, chunk_backprop = run([Xs[i] for i in chunk])
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


def length_chunks(lengths, size: int) -> List[numpy.ndarray]:
    """Indices of the docs sorted by length, `size` at a time, so that little
    of each padded chunk is padding."""
    order = numpy.argsort(lengths, kind="stable")
    return [order[start : start + size] for start in range(0, len(order), size)]


def _run_padded(
    model: Model, Xs: List[Floats2d], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    ops = model.ops
    shim = model.shims[0]
    lengths = [len(X) for X in Xs]
    Xt = xp2torch(ops.pad(Xs), requires_grad=is_train, device=shim.device)
    dropout = model.attrs["dropout_rate"] if is_train else 0.0
    Yt, torch_backprop = shim(
        ArgsKwargs(
            args=(Xt, xp2torch(numpy.asarray(lengths, dtype="int64"))),
            kwargs={"dropout": dropout},
        ),
        is_train,
    )
    Ys = ops.unpad(torch2xp(Yt), lengths)

    def backprop(dYs: List[Floats2d]) -> List[Floats2d]:
        dYt = xp2torch(ops.pad(dYs), device=shim.device)
        dXt = torch_backprop(ArgsKwargs(args=(Yt,), kwargs={"grad_tensors": dYt}))
        return ops.unpad(torch2xp(dXt.args[0]), lengths)

    return Ys, backprop
