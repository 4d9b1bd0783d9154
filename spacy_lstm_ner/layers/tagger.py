"""The tagger's chain: embed → LSTM → output layers, trained as a plain chain;
in prediction the dense layer runs on the LSTM's padded chunks and a doc longer
than the LSTM's window runs window by window, its state carried across."""

from typing import List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from thinc.api import ArgsKwargs, Model, chain, torch2xp, xp2torch
from thinc.types import Floats2d, Floats3d

from .doc_pool import KeyGroups, doc_pool
from .doc_window import DocWindow
from .log_softmax import is_log_softmax
from .padded_lstm import length_chunks
from .thinc_layers import is_chain, is_listener, is_unpadded_with_array, predict_array


def tagger_chain(
    embed: Model, lstm: Model, *output: Model, doc_pool_attr: Optional[str] = None
) -> Model:
    """`chain(embed, lstm, *output)`, the same layers and weights; training
    takes the plain chain. Prediction runs the dense layer on the LSTM's padded
    chunks (`_predict_short`) and predicts a doc longer than the LSTM's `window`
    tokens window by window: embedding, LSTM and dense layer see one window at a
    time, the LSTM carrying its state across windows in both directions
    (`PaddedLSTM.windows`), so the scores are those of one pass while the memory
    of the activations stays that of one window. An embedding that reads a
    token's neighbours (`expand_window`) embeds each window with that many more
    tokens on each side; one that is not per token (a tok2vec listener) sees
    whole docs. With `doc_pool_attr`, the output layers read each token's LSTM
    state beside the mean state of the other tokens of its doc with the same
    value of that attribute (`doc_pool`); a long doc then runs its windows
    twice, the first time to sum the states."""
    plain = chain(embed, lstm, *output)
    dims = {name: plain.maybe_get_dim(name) for name in plain.dim_names}
    return Model(
        plain.name,
        _tagger_forward,
        init=_pooled_init if doc_pool_attr else plain.init,
        dims=dims,
        layers=plain.layers,
        attrs={"doc_pool_attr": doc_pool_attr},
    )


def _pooled_init(model: Model, X=None, Y=None) -> None:
    """The chain's layers initialized in turn on the sample `X`, pooled after the LSTM."""
    embed, lstm, *after = model.layers
    embed.initialize(X=X)
    states = None if X is None else embed.predict(X)
    lstm.initialize(X=states)
    if X is not None:
        states, _ = doc_pool(model.ops, lstm.predict(states), X, model.attrs["doc_pool_attr"])
    for layer in after:
        layer.initialize(X=states)
        states = None if states is None else layer.predict(states)


def _tagger_forward(model: Model, docs: List[Doc], is_train: bool):
    if is_train:
        return _train_forward(model, docs)
    embed, lstm, head, *rest = model.layers
    window = lstm.attrs["window"] if _per_token(embed) else len(max(docs, key=len, default=()))
    short = [doc for doc in docs if len(doc) <= window]
    short_scores = iter(_predict_short(model, short) if short else [])
    scores = [
        next(short_scores) if len(doc) <= window else _predict_windows(model, doc, window)
        for doc in docs
    ]
    for layer in rest:
        scores = layer.predict(scores)
    return scores, _no_backprop


def _train_forward(model: Model, docs: List[Doc]):
    """The layers of `model` in turn, as thinc's `chain` runs them."""
    X, backprops = docs, []
    for i, layer in enumerate(model.layers):
        X, backprop = layer(X, is_train=True)
        backprops.append(backprop)
        if i == 1 and model.attrs["doc_pool_attr"]:
            X, backprop = doc_pool(model.ops, X, docs, model.attrs["doc_pool_attr"])
            backprops.append(backprop)

    def backprop_layers(dY):
        for backprop in reversed(backprops):
            dY = backprop(dY)
        return dY

    return X, backprop_layers


def _predict_short(model: Model, docs: List[Doc]) -> List[Floats2d]:
    """Embedding, LSTM and dense layer of whole docs. The embedding's output
    stays one array (see `_flat_prediction`) from which each chunk of docs
    is padded, and the dense layer (and its log-softmax) runs in PyTorch on
    each padded chunk the LSTM outputs, so that only the tag scores, not the
    LSTM's wide output, are copied per doc."""
    embed, lstm, head = model.layers[:3]
    dense = _dense_head(model, head)
    pool_attr = model.attrs["doc_pool_attr"]
    if dense is None or pool_attr:
        states = lstm.predict(embed.predict(docs))
        if pool_attr:
            states, _ = doc_pool(model.ops, states, docs, pool_attr)
        return head.predict(states)
    from .torch_lstm import one_thread_in_forked_child

    one_thread_in_forked_child()
    flat, lengths = _flat_prediction(embed, docs)
    ends = numpy.cumsum(lengths)
    scores: List[Floats2d] = [None] * len(docs)  # type: ignore[list-item]
    for chunk in length_chunks(lengths, lstm.attrs["chunk_size"]):
        chunk_lengths = lengths[chunk]
        padded = _padded_rows(lstm.ops, flat, ends[chunk] - chunk_lengths, chunk_lengths)
        chunk_scores = _run_padded_dense(lstm, padded, chunk_lengths, *dense)
        for i, doc_scores in zip(chunk.tolist(), chunk_scores):
            scores[i] = doc_scores
    return scores


def _flat_prediction(layer: Model, docs: List[Doc]) -> Tuple[Floats2d, numpy.ndarray]:
    """`layer.predict(docs)` concatenated into one (n_tokens, nO) array, and
    the docs' lengths. In a chain whose layers after the first are `with_array`
    layers, those run on one array, instead of each flattening the docs'
    arrays and splitting them up again."""
    rest = layer.layers[1:] if is_chain(layer) else []
    if rest and all(is_unpadded_with_array(step) for step in rest):
        flat, lengths = _flat_prediction(layer.layers[0], docs)
        for step in rest:
            flat = predict_array(step.layers[0], flat)
        return flat, lengths
    outputs = layer.predict(docs)
    lengths = numpy.array([len(output) for output in outputs], dtype="int64")
    return layer.ops.flatten(outputs), lengths


def _padded_rows(ops, flat: Floats2d, starts: numpy.ndarray, lengths: numpy.ndarray) -> Floats2d:
    """(len(starts), max(lengths), width) array: row i holds flat[starts[i] :
    starts[i] + lengths[i]], then zeros."""
    steps = numpy.arange(int(lengths.max(initial=0)))
    live = steps[None, :] < lengths[:, None]
    padded = ops.alloc3f(len(lengths), len(steps), flat.shape[1])
    padded[ops.asarray(live)] = flat[ops.asarray((starts[:, None] + steps[None, :])[live])]
    return padded


def _dense_head(model: Model, head: Model) -> Optional[Tuple[Floats2d, Floats2d, bool]]:
    """(W, b, log_softmax) of a `with_array(Linear)` or `with_array(chain(Linear,
    log_softmax))` head, else None."""
    output_layer = model.get_ref("output_layer") if model.has_ref("output_layer") else None
    if output_layer is None or not is_unpadded_with_array(head):
        return None
    inner = head.layers[0]
    if inner is output_layer:
        with_log_softmax = False
    elif (
        is_chain(inner)
        and len(inner.layers) == 2
        and inner.layers[0] is output_layer
        and is_log_softmax(inner.layers[1])
    ):
        with_log_softmax = True
    else:
        return None
    return output_layer.get_param("W"), output_layer.get_param("b"), with_log_softmax


def _run_padded_dense(
    model: Model, X: Floats3d, lengths: numpy.ndarray, W, b, with_log_softmax: bool
) -> List[Floats2d]:
    """The tag scores of a padded chunk of docs (`_padded_rows`), one array per doc."""
    shim = model.shims[0]
    Xt = xp2torch(X, device=shim.device)
    Yt = shim.predict(
        ArgsKwargs(args=(Xt, xp2torch(lengths)), kwargs={"in_prediction_dtype": True})
    )
    scores = torch2xp(_dense_scores(Yt, W, b, with_log_softmax))
    return [scores[i, :length] for i, length in enumerate(lengths.tolist())]


def _dense_scores(Yt, W, b, with_log_softmax: bool):
    """The dense layer (and log-softmax) over the LSTM's output `Yt`, in the
    dtype the LSTM predicted in; the scores in float32."""
    import torch

    with torch.no_grad():
        Wt, bt = (xp2torch(param, device=Yt.device).to(Yt.dtype) for param in (W, b))
        St = torch.nn.functional.linear(Yt, Wt, bt).float()
        return St.log_softmax(dim=-1) if with_log_softmax else St


def _per_token(embed: Model) -> bool:
    """Whether `embed` can embed a window of a doc on its own: no listener,
    whose vectors come from another component's pass over whole docs."""
    return not any(is_listener(node) for node in embed.walk())


def _reach(embed: Model) -> int:
    """How many tokens to each side a token's vector from `embed` reads:
    the sum of the windows of its `expand_window` layers (WindowEmbed.v1,
    spaCy's MaxoutWindowEncoder), 0 for per-token features."""
    return sum(node.attrs["window_size"] for node in embed.walk() if node.name == "expand_window")


def _predict_windows(model: Model, doc: Doc, window: int) -> Floats2d:
    import torch

    from .torch_lstm import one_thread_in_forked_child

    one_thread_in_forked_child()
    embed, lstm, head = model.layers[:3]
    dense = _dense_head(model, head)
    shim = lstm.shims[0]
    starts = range(0, len(doc), window)
    pool_attr = model.attrs["doc_pool_attr"]
    reach = _reach(embed)

    def inputs(k: int):
        start, end = starts[k], min(starts[k] + window, len(doc))
        context = max(0, start - reach)
        X = embed.predict([DocWindow(doc[context : end + reach])])[0]
        return xp2torch(X[start - context : end - context], device=shim.device)[None]

    def states():
        return zip(starts, shim.module.windows(inputs, len(starts)))

    scores = None
    with torch.no_grad():
        if pool_attr:
            groups = KeyGroups.of(head.ops, doc, pool_attr)
            sums = sum(
                groups.sums(head.ops, torch2xp(Y[0].float()), start) for start, Y in states()
            )
        for start, Y in states():
            if pool_attr:
                H = groups.pooled(head.ops, torch2xp(Y[0].float()), sums, start)
                window_scores = head.predict([H])[0]
            elif dense is None:
                window_scores = head.predict([torch2xp(Y[0].float())])[0]
            else:
                window_scores = torch2xp(_dense_scores(Y[0], *dense))
            if scores is None:
                scores = head.ops.alloc2f(len(doc), window_scores.shape[1])
            scores[start : start + len(window_scores)] = window_scores
    return scores


def _no_backprop(d_scores):
    raise ValueError("lstm_ner's prediction has no gradient: use begin_update to train.")
