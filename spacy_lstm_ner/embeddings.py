"""Registered token embeddings for the tagger: hashed features, character
features, static vectors, neighbouring tokens."""

from typing import List, Optional, Sequence

from spacy.attrs import intify_attr
from spacy.ml.featureextractor import FeatureExtractor
from spacy.ml.staticvectors import StaticVectors
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (
    HashEmbed,
    LayerNorm,
    Model,
    chain,
    concatenate,
    expand_window,
    ragged2list,
    with_array,
    with_ragged,
)
from thinc.types import Floats2d

from .layers import (
    char_cnn,
    character_embed,
    fixed_dropout,
    word_embed,
)


@registry.architectures("spacy_lstm_ner.WordEmbed.v1")
def build_word_embed(
    width: int = 50, attr: str = "NORM", rows: int = 20000
) -> Model[List[Doc], List[Floats2d]]:
    """One learned vector per token, looked up by a single attribute (hashed
    into `rows` rows): a plain word embedding, as in a small one-direction LSTM tagger."""
    check_positive("width", width, "WordEmbed")
    check_positive("rows", rows, "WordEmbed")
    if intify_attr(attr) is None:
        raise ValueError(f"WordEmbed attr {attr!r} is not a spaCy token attribute.")
    embed = HashEmbed(nO=width, nV=rows, column=0, seed=7)
    return chain(FeatureExtractor([attr]), with_array(embed))


@registry.architectures("spacy_lstm_ner.FeatureEmbed.v1")
def build_feature_embed(
    attrs: Sequence[str] = ("NORM", "PREFIX", "SUFFIX", "SHAPE"),
    widths: Sequence[int] = (64, 16, 32, 16),
    rows: Sequence[int] = (5000, 1000, 2500, 2500),
    chars: int = 0,
    char_width: int = 16,
    include_static_vectors: bool = False,
    vectors_width: int = 64,
) -> Model[List[Doc], List[Floats2d]]:
    """One hashed embedding per token attribute, concatenated; the defaults
    are configs/bilstm.cfg's embedding.

    Unlike spacy.MultiHashEmbed.v2 there is no Maxout layer mixing the
    features: the LSTM's input projection mixes them anyway, so the mixing
    layer would only cost time. A layer norm scales the concatenation.

    chars: also embed the UTF-8 bytes of each token's first and last
        chars // 2 characters, char_width dimensions each (0: no characters).
    include_static_vectors: also project each token's static vector (the
        table [initialize] vectors loads) to vectors_width dimensions.
    Output width is sum(widths) + chars * char_width (+ vectors_width).
    """
    _check_embed_attrs(attrs, widths, rows, "FeatureEmbed")
    if chars < 0 or chars % 2:
        raise ValueError(f"FeatureEmbed chars must be an even number >= 0, got {chars!r}.")
    embeddings = [
        HashEmbed(nO=width, nV=n_rows, column=i, seed=7 + i)
        for i, (width, n_rows) in enumerate(zip(widths, rows))
    ]
    features = chain(FeatureExtractor(list(attrs)), with_array(concatenate(*embeddings)))
    width = sum(widths)
    if chars:
        check_positive("char_width", char_width, "FeatureEmbed")
        features = concatenate(features, character_embed(chars, char_width))
        width += chars * char_width
    return _normed(features, width, include_static_vectors, vectors_width)


@registry.architectures("spacy_lstm_ner.FeatureEmbed.v2")
def build_feature_embed_v2(
    attrs: Sequence[str] = ("NORM", "SHAPE"),
    widths: Sequence[int] = (64, 16),
    rows: Sequence[int] = (20000, 1000),
    char_cnn_width: int = 50,
    char_width: int = 25,
    char_window: int = 3,
    max_bytes: int = 24,
    char_dropout: float = 0.0,
    include_static_vectors: bool = False,
    vectors_width: int = 64,
    vectors_dropout: Optional[float] = None,
    word_dropout_rate: float = 0.0,
    word_dropout_alpha: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """One hashed embedding per token attribute, a character CNN over the
    whole word and the word's static vector, concatenated and layer-normed.

    The defaults are configs/bilstm_crf.cfg's embedding but for three settings
    left off: include_static_vectors (it needs a vectors table),
    word_dropout_alpha (it needs the word counts lstm_ner makes at initialize)
    and vectors_dropout (null, as pipelines saved before the setting had it).
    attrs: no PREFIX or SUFFIX by default: word dropout cannot hide them, and
        with the shape they let the tagger learn the names training saw
        instead of learning from context (docs/ablation.md).
    char_cnn_width: filters of the character CNN (0: no characters), over
        bytes embedded in char_width dimensions, char_window bytes at a time;
        words longer than max_bytes bytes are read by their first and last
        max_bytes // 2 bytes. In training, char_dropout is the share of the
        byte embeddings' units dropped before the CNN (Ma and Hovy 2016), so
        that no single character decides a word's features.
    include_static_vectors: also project each token's static vector (the
        table [initialize] vectors loads) to vectors_width dimensions.
    vectors_dropout: the share of the projection's dimensions that spaCy's
        StaticVectors drops for a whole batch in training; None: the training
        dropout, as spaCy's own embeddings have it.
    word_dropout_rate: the first attr is the word's: its embedding is the
        unknown word's (zeros) for words training never saw, and in training
        for this share of the tokens, so that the tagger learns to recognise
        names from their static vectors, characters, shape and context, as it
        must for unseen names.
    word_dropout_alpha: > 0 instead of word_dropout_rate: a word the training
        corpus holds `count` times is dropped with probability alpha / (alpha
        + count), so that rare words, as names mostly are, are dropped often
        and the frequent words of their context seldom.
    Output width is sum(widths) + char_cnn_width (+ vectors_width).
    """
    _check_embed_attrs(attrs, widths, rows, "FeatureEmbed")
    if char_cnn_width:
        for name, value in (
            ("char_cnn_width", char_cnn_width),
            ("char_width", char_width),
            ("max_bytes", max_bytes),
        ):
            check_positive(name, value, "FeatureEmbed")
        if char_window < 1 or not char_window % 2:
            raise ValueError(
                f"FeatureEmbed char_window must be an odd number >= 1, got {char_window!r}."
            )
    if vectors_dropout is not None:
        check_rate("vectors_dropout", vectors_dropout, "FeatureEmbed")
    check_rate("char_dropout", char_dropout, "FeatureEmbed")
    check_rate("word_dropout_rate", word_dropout_rate, "FeatureEmbed")
    if word_dropout_alpha < 0.0 or (word_dropout_alpha and word_dropout_rate):
        raise ValueError(
            "FeatureEmbed word_dropout_alpha must be >= 0 and, above 0, comes instead of "
            f"word_dropout_rate: got word_dropout_alpha = {word_dropout_alpha!r} and "
            f"word_dropout_rate = {word_dropout_rate!r}; set the other to 0."
        )
    features = word_embed(attrs[0], widths[0], rows[0], word_dropout_rate, word_dropout_alpha)
    if len(attrs) > 1:
        embeddings = [
            HashEmbed(nO=width, nV=n_rows, column=i, seed=8 + i)
            for i, (width, n_rows) in enumerate(zip(widths[1:], rows[1:]))
        ]
        features = concatenate(
            features, chain(FeatureExtractor(list(attrs[1:])), with_array(concatenate(*embeddings)))
        )
    width = sum(widths)
    if char_cnn_width:
        features = concatenate(
            features, char_cnn(char_cnn_width, char_width, char_window, max_bytes, char_dropout)
        )
        width += char_cnn_width
    return _normed(features, width, include_static_vectors, vectors_width, vectors_dropout)


@registry.architectures("spacy_lstm_ner.WindowEmbed.v1")
def build_window_embed(
    embed: Model[List[Doc], List[Floats2d]], window_size: int = 1
) -> Model[List[Doc], List[Floats2d]]:
    """Each token's vector from `embed`, concatenated with those of the
    window_size tokens before and after it in its doc (zeros past the doc's
    edges): a left-to-right LSTM over them sees window_size tokens ahead.
    Output width is embed's width * (2 * window_size + 1)."""
    check_positive("window_size", window_size, "WindowEmbed")
    model = chain(embed, with_ragged(expand_window(window_size)))
    width = embed.maybe_get_dim("nO")
    if width is not None:
        model.set_dim("nO", width * (2 * window_size + 1))
    return model


def _normed(
    features: Model,
    width: int,
    include_static_vectors: bool,
    vectors_width: int,
    vectors_dropout: Optional[float] = None,
) -> Model:
    """`features` (`width` wide), with the projected static vectors if asked
    for, concatenated and layer-normed: the end of every FeatureEmbed."""
    if include_static_vectors:
        check_positive("vectors_width", vectors_width, "FeatureEmbed")
        vectors = StaticVectors(nO=vectors_width)
        if vectors_dropout is not None:
            vectors = fixed_dropout(vectors, vectors_dropout)
        features = concatenate(features, chain(vectors, ragged2list()))
        width += vectors_width
    model = chain(features, with_array(LayerNorm(nI=width)))
    model.set_dim("nO", width)
    return model


def _check_embed_attrs(
    attrs: Sequence[str], widths: Sequence[int], rows: Sequence[int], owner: str
) -> None:
    """One positive width and row count per known token attribute."""
    if not attrs:
        raise ValueError(f"{owner} attrs must name at least one token attribute.")
    for setting, values in (("widths", widths), ("rows", rows)):
        if len(values) != len(attrs):
            raise ValueError(
                f"{owner} {setting} must have one entry per attr: "
                f"{len(attrs)} attrs {list(attrs)!r} but {setting} = {list(values)!r}."
            )
        for value in values:
            check_positive(setting, value, owner)
    for attr in attrs:
        if intify_attr(attr) is None:
            raise ValueError(f"{owner} attr {attr!r} is not a spaCy token attribute.")


def check_positive(name: str, value: int, owner: str) -> None:
    if value < 1:
        raise ValueError(f"{owner} {name} must be a positive integer, got {value!r}.")


def check_rate(name: str, value: float, owner: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner} {name} must be in [0, 1), got {value!r}.")
