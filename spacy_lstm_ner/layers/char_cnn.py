"""A character CNN over whole words, run once per distinct word of a batch.
PyTorch is imported when the layer is built."""

from typing import Callable, List, Tuple

import numpy
from spacy.tokens import Doc
from thinc.api import ArgsKwargs, Model, torch2xp, xp2torch
from thinc.types import Floats2d


def char_cnn(
    nO: int, char_width: int, window: int, max_bytes: int, dropout: float = 0.0
) -> Model[List[Doc], List[Floats2d]]:
    """One `nO`-wide vector per token from the UTF-8 bytes of its text: the
    first and last `max_bytes // 2` bytes of longer words. Each distinct word
    of a batch goes through the CNN once and its tokens share the result. In
    training, `dropout` is the share of the byte embeddings' units dropped."""
    from .torch_char_cnn import CharCNN
    from .torch_lstm import InPlaceShim

    return Model(
        "char_cnn",
        _char_cnn_forward,
        shims=[InPlaceShim(CharCNN(nO, char_width, window))],
        dims={"nO": nO},
        attrs={"max_bytes": max_bytes, "dropout": dropout},
    )


def _char_cnn_forward(model: Model, docs: List, is_train: bool) -> Tuple[List[Floats2d], Callable]:
    ops, shim = model.ops, model.shims[0]
    orths = [doc.to_array("ORTH") for doc in docs]
    lengths = [len(doc_orths) for doc_orths in orths]
    words, inverse = numpy.unique(
        numpy.concatenate(orths or [[]]).astype("uint64"), return_inverse=True
    )
    if not len(words):
        return [ops.alloc2f(0, model.get_dim("nO")) for _ in docs], lambda dYs: []
    byte_ids = word_bytes(docs[0].vocab.strings, words, model.attrs["max_bytes"])
    dropout = model.attrs["dropout"] if is_train else 0.0
    Yt, torch_backprop = shim(
        ArgsKwargs(args=(xp2torch(byte_ids, device=shim.device),), kwargs={"dropout": dropout}),
        is_train,
    )
    rows = ops.asarray(inverse.reshape(-1).astype("int64"))
    word_vectors = torch2xp(Yt)
    vectors = ops.unflatten(word_vectors[rows], lengths)

    def backprop(dYs: List[Floats2d]) -> List:
        d_words = ops.alloc2f(*word_vectors.shape)
        ops.scatter_add(d_words, rows, ops.flatten(dYs))
        torch_backprop(
            ArgsKwargs(args=(Yt,), kwargs={"grad_tensors": xp2torch(d_words, device=shim.device)})
        )
        return []

    return vectors, backprop


def word_bytes(strings, keys: numpy.ndarray, max_bytes: int) -> numpy.ndarray:
    """(len(keys), n) int64 byte ids (byte + 1, 0 after the word's end) of the
    strings `keys` name; n is the longest word's length, at most `max_bytes`."""
    encoded = [strings[key].encode("utf8") for key in keys.tolist()]
    head = max_bytes // 2
    encoded = [
        data if len(data) <= max_bytes else data[:head] + data[head - max_bytes :]
        for data in encoded
    ]
    byte_ids = numpy.zeros((len(encoded), max(map(len, encoded), default=1) or 1), dtype="int64")
    for i, data in enumerate(encoded):
        byte_ids[i, : len(data)] = numpy.frombuffer(data, dtype=numpy.uint8) + 1
    return byte_ids
