"""Registered architectures: the tagger (embed → (Bi)LSTM → dense → log-softmax)
and the token embeddings that feed it."""
from typing import List, Optional, Sequence

from spacy.attrs import intify_attr
from spacy.ml.featureextractor import FeatureExtractor
from spacy.ml.staticvectors import StaticVectors
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (
    HashEmbed,
    LayerNorm,
    Linear,
    Model,
    chain,
    concatenate,
    ragged2list,
    with_array,
)
from thinc.types import Floats2d

from .layers import (
    INFERENCE_DTYPES,
    CRFOutput,
    char_cnn,
    character_embed,
    crf_layer,
    log_softmax,
    padded_lstm,
    tagger_chain,
    word_embed,
)


@registry.architectures("spacy_lstm_ner.BiLSTMTagger.v1")
def build_bilstm_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    chunk_size: int = 32,
    window: int = 4096,
    nO: Optional[int] = None,
    inference_dtype: str = "float32",
) -> Model[List[Doc], List[Floats2d]]:
    """Log-probabilities over the tag set for every token of every doc.

    embed: any layer giving one vector per token, e.g. spacy.MultiHashEmbed.v2
        or a spacy.Tok2VecListener.v1 that shares a tok2vec component.
    hidden_width: LSTM state width per direction.
    depth: number of stacked LSTM layers.
    bidirectional: run a second LSTM right to left and concatenate both.
    dropout: dropout rate on the LSTM's input, between its layers and on its
        output until the trainer sets `[training] dropout`, which then rules.
    chunk_size: the LSTM runs the docs of a batch sorted by length, this many
        at a time, so that little of each padded chunk is padding (speed only).
    window: a doc longer than this many tokens is predicted window by window,
        with the LSTM's state carried across windows: the same scores as one
        pass, with the memory of one window's activations (memory only).
    nO: number of tags; left open, the component sets it from its labels.
    inference_dtype: what the LSTM and the dense layer over its output
        predict in: "float32", "bfloat16" (about 1.7x faster LSTM on CPUs with
        AVX-512 or AMX, the same entities but for a rare few), or "auto":
        bfloat16 where the CPU runs it natively, float32 elsewhere and on GPU.
        The tag scores are float32; training always runs in float32.
    """
    lstm = _build_lstm(
        embed, hidden_width, depth, bidirectional, dropout, chunk_size, window, nO, inference_dtype, "BiLSTMTagger"
    )
    return _build_tagger(embed, lstm, nO, crf=False)


@registry.architectures("spacy_lstm_ner.BiLSTMCRFTagger.v2")
def build_bilstm_crf_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    chunk_size: int = 32,
    window: int = 4096,
    nO: Optional[int] = None,
    inference_dtype: str = "float32",
) -> Model[List[Doc], CRFOutput]:
    """Emission scores over the tag set for every token, with a linear-chain
    CRF on top: the model outputs a `CRFOutput`, the emissions together with
    the `crf` layer's learned start, transition and end scores, which lstm_ner
    trains with the CRF likelihood and decodes with Viterbi.
    Settings as for spacy_lstm_ner.BiLSTMTagger.v1."""
    lstm = _build_lstm(
        embed, hidden_width, depth, bidirectional, dropout, chunk_size, window, nO, inference_dtype, "BiLSTMCRFTagger"
    )
    return _build_tagger(embed, lstm, nO, crf=True)


# v1 pipelines share the v2 model's weights layer for layer: v1 builds the same
# model, so that pipelines saved with it load unchanged. New configs name v2.
registry.architectures("spacy_lstm_ner.BiLSTMCRFTagger.v1")(build_bilstm_crf_tagger)


def _build_tagger(embed: Model, lstm: Model, nO: Optional[int], *, crf: bool) -> Model:
    """embed → lstm → dense, ending in a log-softmax, or in the `crf` layer
    whose transition scores the component trains and decodes with."""
    output_layer = Linear(nO=nO, nI=lstm.get_dim("nO"))
    if crf:
        crf = crf_layer(nO)
        model = tagger_chain(embed, lstm, with_array(output_layer), crf)
        model.set_ref("crf", crf)
    else:
        model = tagger_chain(embed, lstm, with_array(chain(output_layer, log_softmax())))
    model.set_ref("embed", embed)
    model.set_ref("lstm", lstm)
    model.set_ref("output_layer", output_layer)
    return model


def _build_lstm(embed, hidden_width, depth, bidirectional, dropout, chunk_size, window, nO, inference_dtype, owner) -> Model:
    """The (Bi)LSTM over `embed`'s vectors, after checking every setting;
    errors name the architecture `owner`."""
    _check_positive("hidden_width", hidden_width, owner)
    _check_positive("depth", depth, owner)
    _check_positive("chunk_size", chunk_size, owner)
    _check_positive("window", window, owner)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{owner} dropout must be in [0, 1), got {dropout!r}.")
    if nO is not None:
        _check_positive("nO", nO, owner)
    if inference_dtype not in INFERENCE_DTYPES:
        raise ValueError(f"{owner} inference_dtype must be one of {', '.join(INFERENCE_DTYPES)}, got {inference_dtype!r}.")
    _check_feature_attrs(embed, owner)
    return padded_lstm(
        embed.maybe_get_dim("nO"),
        hidden_width,
        depth=depth,
        bidirectional=bidirectional,
        dropout=dropout,
        chunk_size=chunk_size,
        window=window,
        inference_dtype=inference_dtype,
    )


@registry.architectures("spacy_lstm_ner.WordEmbed.v1")
def build_word_embed(
    width: int = 50, attr: str = "NORM", rows: int = 20000
) -> Model[List[Doc], List[Floats2d]]:
    """One learned vector per token, looked up by a single attribute (hashed
    into `rows` rows): a plain word embedding, as in a small one-direction LSTM tagger."""
    _check_positive("width", width, "WordEmbed")
    _check_positive("rows", rows, "WordEmbed")
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
    """One hashed embedding per token attribute, concatenated.

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
        _check_positive("char_width", char_width, "FeatureEmbed")
        features = concatenate(features, character_embed(chars, char_width))
        width += chars * char_width
    return _normed(features, width, include_static_vectors, vectors_width)


@registry.architectures("spacy_lstm_ner.FeatureEmbed.v2")
def build_feature_embed_v2(
    attrs: Sequence[str] = ("NORM", "PREFIX", "SUFFIX", "SHAPE"),
    widths: Sequence[int] = (64, 16, 32, 16),
    rows: Sequence[int] = (20000, 2000, 5000, 1000),
    char_cnn_width: int = 50,
    char_width: int = 25,
    char_window: int = 3,
    max_bytes: int = 24,
    include_static_vectors: bool = False,
    vectors_width: int = 64,
    word_dropout_rate: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """One hashed embedding per token attribute, a character CNN over the
    whole word and the word's static vector, concatenated and layer-normed.

    char_cnn_width: filters of the character CNN (0: no characters), over
        bytes embedded in char_width dimensions, char_window bytes at a time;
        words longer than max_bytes bytes are read by their first and last
        max_bytes // 2 bytes.
    include_static_vectors: also project each token's static vector (the
        table [initialize] vectors loads) to vectors_width dimensions.
    word_dropout_rate: the first attr is the word's: its embedding is the
        unknown word's (zeros) for words training never saw, and in training
        for this share of the tokens, so that the tagger learns to recognise
        names from their static vectors, characters, shape and context, as it
        must for unseen names.
    Output width is sum(widths) + char_cnn_width (+ vectors_width).
    """
    _check_embed_attrs(attrs, widths, rows, "FeatureEmbed")
    if char_cnn_width:
        for name, value in (("char_cnn_width", char_cnn_width), ("char_width", char_width), ("max_bytes", max_bytes)):
            _check_positive(name, value, "FeatureEmbed")
        if char_window < 1 or not char_window % 2:
            raise ValueError(f"FeatureEmbed char_window must be an odd number >= 1, got {char_window!r}.")
    if not 0.0 <= word_dropout_rate < 1.0:
        raise ValueError(f"FeatureEmbed word_dropout_rate must be in [0, 1), got {word_dropout_rate!r}.")
    features = word_embed(attrs[0], widths[0], rows[0], word_dropout_rate)
    if len(attrs) > 1:
        embeddings = [
            HashEmbed(nO=width, nV=n_rows, column=i, seed=8 + i)
            for i, (width, n_rows) in enumerate(zip(widths[1:], rows[1:]))
        ]
        features = concatenate(features, chain(FeatureExtractor(list(attrs[1:])), with_array(concatenate(*embeddings))))
    width = sum(widths)
    if char_cnn_width:
        features = concatenate(features, char_cnn(char_cnn_width, char_width, char_window, max_bytes))
        width += char_cnn_width
    return _normed(features, width, include_static_vectors, vectors_width)


def _normed(features: Model, width: int, include_static_vectors: bool, vectors_width: int) -> Model:
    """`features` (`width` wide), with the projected static vectors if asked
    for, concatenated and layer-normed: the end of every FeatureEmbed."""
    if include_static_vectors:
        _check_positive("vectors_width", vectors_width, "FeatureEmbed")
        features = concatenate(features, chain(StaticVectors(nO=vectors_width), ragged2list()))
        width += vectors_width
    model = chain(features, with_array(LayerNorm(nI=width)))
    model.set_dim("nO", width)
    return model


def _check_embed_attrs(attrs: Sequence[str], widths: Sequence[int], rows: Sequence[int], owner: str) -> None:
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
            _check_positive(setting, value, owner)
    for attr in attrs:
        if intify_attr(attr) is None:
            raise ValueError(f"{owner} attr {attr!r} is not a spaCy token attribute.")


def _check_feature_attrs(embed: Model, owner: str) -> None:
    """Fail at construction, not at the first doc, on an attribute name spaCy
    does not know in any feature extractor of `embed` (spacy.MultiHashEmbed.v2
    only fails once it reads a doc)."""
    for layer in embed.walk():
        if layer.name != "extract_features":
            continue
        for attr in layer.attrs["columns"]:
            if isinstance(attr, str) and intify_attr(attr) is None:
                raise ValueError(
                    f"{owner} embed attrs: {attr!r} is not a spaCy token "
                    f"attribute (attrs = {list(layer.attrs['columns'])!r})."
                )


def _check_positive(name: str, value: int, owner: str) -> None:
    if value < 1:
        raise ValueError(f"{owner} {name} must be a positive integer, got {value!r}.")


def check_static_vectors(model: Model, vocab, name: str) -> None:
    """Refuse a model that embeds static vectors when `vocab` has no vectors
    table; the error names the component `name` and the fix."""
    uses_vectors = any(node.name == "static_vectors" for node in model.walk())
    if uses_vectors and vocab.vectors.shape[0] == 0:
        raise ValueError(
            f"{name}'s model embeds static vectors (include_static_vectors = "
            "true), but the vocab has no vectors table: give one in [initialize] "
            "vectors, e.g. --paths.vectors corpus/vectors from `spacy project run "
            "vectors`, or set include_static_vectors = false."
        )
