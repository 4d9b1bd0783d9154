"""The learned word embedding, with an unknown word's vector for the words
training never saw: zeros, as word dropout teaches the tagger in training."""

from typing import Callable, Iterable, List, Tuple

import numpy
from spacy.attrs import intify_attr
from spacy.tokens import Doc
from thinc.api import HashEmbed, Model
from thinc.types import Floats2d


def word_embed(
    attr: str, width: int, rows: int, dropout: float, alpha: float = 0.0
) -> Model[List, List[Floats2d]]:
    """A hashed embedding of each token's `attr`. With word dropout on, in
    training a share of the tokens get zeros, the unknown word's vector, and
    every key trained is recorded; in prediction, tokens whose key training
    never saw get zeros too, not the trained rows their hashes share with other
    words. The share is `dropout` for every token or, with `alpha` > 0, alpha /
    (alpha + count) for a word the training corpus holds `count` times (see
    `count_words`): rare words, as most names are, often; frequent ones seldom.
    With both 0 it is a plain hashed embedding."""
    return Model(
        "word_embed",
        _word_embed_forward,
        init=_word_embed_init,
        layers=[HashEmbed(nO=width, nV=rows, column=0, seed=7)],
        dims={"nO": width},
        attrs={
            "attr": intify_attr(attr),
            "word_dropout": dropout,
            "alpha": alpha,
            "known": numpy.zeros((0,), dtype="uint64"),
            "count_keys": numpy.zeros((0,), dtype="uint64"),
            "counts": numpy.zeros((0,), dtype="float32"),
        },
    )


def count_words(model: Model, docs: Iterable[Doc]) -> None:
    """Count the words of `docs` (the training corpus) for every word_embed
    layer in `model` that drops words by frequency."""
    layers = [node for node in model.walk() if node.name == "word_embed" and node.attrs["alpha"]]
    if not layers:
        return
    docs = list(docs)
    for layer in layers:
        unique, counts = numpy.unique(_flat_keys(docs, layer.attrs["attr"])[0], return_counts=True)
        layer.attrs["count_keys"] = unique
        layer.attrs["counts"] = counts.astype("float32")


def _flat_keys(docs, attr: int) -> Tuple[numpy.ndarray, List[int]]:
    """Every token's `attr` key, the docs' one after another, and their lengths."""
    keys = [doc.to_array(attr) for doc in docs]
    return numpy.concatenate(keys or [[]]).astype("uint64"), [len(doc_keys) for doc_keys in keys]


def _word_embed_init(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize()


def _drop_rates(model: Model, keys: numpy.ndarray):
    """Each token's chance of the unknown word's vector in training; a word
    the counts miss (a key the training corpus did not have at initialize)
    counts as seen once."""
    alpha = model.attrs["alpha"]
    if not alpha:
        return model.attrs["word_dropout"]
    count_keys, counts = model.attrs["count_keys"], model.attrs["counts"]
    if not len(count_keys):
        raise ValueError(
            "word_dropout_alpha needs the word counts of the training corpus, which "
            "lstm_ner's initialize takes; the embedding has none (is it in another "
            "component, a tok2vec?). Initialize it through lstm_ner or use word_dropout_rate."
        )
    seen = numpy.ones(len(keys), dtype="float32")
    index = numpy.minimum(numpy.searchsorted(count_keys, keys), len(count_keys) - 1)
    found = count_keys[index] == keys
    seen[found] = counts[index[found]]
    return alpha / (alpha + seen)


def _word_embed_forward(
    model: Model, docs: List, is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    ops, embed = model.ops, model.layers[0]
    flat, lengths = _flat_keys(docs, model.attrs["attr"])
    dropping = model.attrs["word_dropout"] or model.attrs["alpha"]
    if is_train and dropping:
        unknown = numpy.random.uniform(0.0, 1.0, len(flat)) < _drop_rates(model, flat)
        model.attrs["known"] = numpy.union1d(model.attrs["known"], flat[~unknown])
    elif dropping and len(model.attrs["known"]):
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
