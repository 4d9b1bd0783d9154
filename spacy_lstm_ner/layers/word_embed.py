"""The learned word embedding, with an unknown word's vector for the words
training never saw: zeros, as word dropout teaches the tagger in training."""

from typing import Callable, List, Tuple

import numpy
from spacy.attrs import intify_attr
from thinc.api import HashEmbed, Model
from thinc.types import Floats2d


def word_embed(attr: str, width: int, rows: int, dropout: float) -> Model[List, List[Floats2d]]:
    """A hashed embedding of each token's `attr`. With `dropout` > 0, in
    training a `dropout` share of the tokens get zeros, the unknown word's
    vector, and every key trained is recorded; in prediction, tokens whose key
    training never saw get zeros too, not the trained rows their hashes share
    with other words. With `dropout` 0 it is a plain hashed embedding."""
    return Model(
        "word_embed",
        _word_embed_forward,
        init=_word_embed_init,
        layers=[HashEmbed(nO=width, nV=rows, column=0, seed=7)],
        dims={"nO": width},
        attrs={
            "attr": intify_attr(attr),
            "word_dropout": dropout,
            "known": numpy.zeros((0,), dtype="uint64"),
        },
    )


def _word_embed_init(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize()


def _word_embed_forward(
    model: Model, docs: List, is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    ops, embed = model.ops, model.layers[0]
    keys = [doc.to_array(model.attrs["attr"]) for doc in docs]
    lengths = [len(doc_keys) for doc_keys in keys]
    flat = numpy.concatenate(keys or [[]]).astype("uint64")
    rate = model.attrs["word_dropout"]
    if is_train and rate:
        unknown = numpy.random.uniform(0.0, 1.0, len(flat)) < rate
        model.attrs["known"] = numpy.union1d(model.attrs["known"], flat[~unknown])
    elif rate and len(model.attrs["known"]):
        unknown = ~numpy.isin(flat, model.attrs["known"])
    else:
        unknown = numpy.zeros(len(flat), dtype=bool)
    vectors, backprop_embed = embed(ops.asarray2i(flat.reshape(-1, 1), dtype="uint64"), is_train)
    mask = ops.asarray2f((~unknown).astype("float32").reshape(-1, 1))
    vectors = vectors * mask

    def backprop(dYs: List[Floats2d]) -> List:
        backprop_embed(ops.flatten(dYs) * mask)
        return []

    return ops.unflatten(vectors, lengths), backprop
