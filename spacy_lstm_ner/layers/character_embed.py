"""spaCy-style character embeddings: a vector per byte of a token's first and
last characters (FeatureEmbed.v1)."""

from typing import Callable, List, Tuple, Union

import numpy
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d

from .doc_window import DocWindow


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
    table = numpy.random.normal(scale=0.1, size=(n_chars * 256, width))
    model.set_param("E", model.ops.asarray2f(table, dtype="float32"))


def _character_embed_forward(
    model: Model, docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    n_chars, width = model.get_dim("nC"), model.get_dim("nM")
    E = model.get_param("E")
    offsets = model.ops.xp.arange(n_chars, dtype="int64") * 256
    rows = [model.ops.asarray(_utf8_array(doc, n_chars), dtype="int64") + offsets for doc in docs]
    vectors = [E[doc_rows].reshape((len(doc_rows), n_chars * width)) for doc_rows in rows]

    def backprop(d_vectors: List[Floats2d]) -> List:
        dE = model.ops.alloc2f(*E.shape)
        for doc_rows, d_doc in zip(rows, d_vectors):
            model.ops.scatter_add(dE, doc_rows.ravel(), d_doc.reshape((-1, width)))
        model.inc_grad("E", dE)
        return []

    return vectors, backprop


def _utf8_array(doc: Union[Doc, DocWindow], n_chars: int) -> numpy.ndarray:
    if isinstance(doc, DocWindow):
        span = doc.span
        return span.doc.to_utf8_array(nr_char=n_chars)[span.start : span.end]
    return doc.to_utf8_array(nr_char=n_chars)
