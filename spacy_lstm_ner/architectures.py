"""Registered tagger architectures: embed → (Bi)LSTM → dense → log-softmax, or
→ CRF. The embeddings that feed them are in `embeddings.py`."""

from typing import List, Optional

from spacy.attrs import intify_attr
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (
    Linear,
    Model,
    chain,
    with_array,
)
from thinc.types import Floats2d

from .embeddings import check_positive, check_rate
from .layers import (
    INFERENCE_DTYPES,
    CRFOutput,
    crf_layer,
    log_softmax,
    padded_lstm,
    tagger_chain,
)


@registry.architectures("spacy_lstm_ner.BiLSTMTagger.v1")
def build_bilstm_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 64,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.2,
    chunk_size: int = 32,
    window: int = 4096,
    nO: Optional[int] = None,
    inference_dtype: str = "float32",
    variational_dropout: bool = False,
    doc_pool_attr: Optional[str] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Log-probabilities over the tag set for every token of every doc.

    The defaults are the model of configs/bilstm.cfg, which is also the model
    `add_pipe("lstm_ner")` builds (factory.py), but for inference_dtype.

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
        The tag scores are float32; training always runs in float32. The
        default stays float32, the same scores on every CPU, which is also
        what pipelines saved before the setting existed predict in.
    variational_dropout: drop the same units of a sequence at every step
        (on the LSTM's input, between its layers and on its output) instead
        of each value on its own.
    doc_pool_attr: a token attribute, e.g. "LOWER": the dense layer also reads,
        for each token, the mean LSTM state of the other tokens of its doc with
        the same value, so that a name's other mentions in the text inform its
        tag (None: each token's own state only).
    """
    lstm = _build_lstm(
        embed,
        hidden_width,
        depth,
        bidirectional,
        dropout,
        chunk_size,
        window,
        nO,
        inference_dtype,
        variational_dropout,
        "BiLSTMTagger",
    )
    _check_doc_pool_attr(doc_pool_attr, "BiLSTMTagger")
    return _build_tagger(embed, lstm, nO, crf=False, doc_pool_attr=doc_pool_attr)


@registry.architectures("spacy_lstm_ner.BiLSTMCRFTagger.v2")
def build_bilstm_crf_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 200,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.5,
    chunk_size: int = 32,
    window: int = 4096,
    nO: Optional[int] = None,
    inference_dtype: str = "float32",
    variational_dropout: bool = False,
    doc_pool_attr: Optional[str] = None,
) -> Model[List[Doc], CRFOutput]:
    """Emission scores over the tag set for every token, with a linear-chain
    CRF on top: the model outputs a `CRFOutput`, the emissions together with
    the `crf` layer's learned start, transition and end scores, which lstm_ner
    trains with the CRF likelihood and decodes with Viterbi.
    Settings as for spacy_lstm_ner.BiLSTMTagger.v1; the defaults of
    hidden_width and dropout are those of configs/bilstm_crf.cfg."""
    lstm = _build_lstm(
        embed,
        hidden_width,
        depth,
        bidirectional,
        dropout,
        chunk_size,
        window,
        nO,
        inference_dtype,
        variational_dropout,
        "BiLSTMCRFTagger",
    )
    _check_doc_pool_attr(doc_pool_attr, "BiLSTMCRFTagger")
    return _build_tagger(embed, lstm, nO, crf=True, doc_pool_attr=doc_pool_attr)


# v1 pipelines share the v2 model's weights layer for layer: v1 builds the same
# model, so that pipelines saved with it load unchanged (their config names the
# hidden_width and dropout they were built with). New configs name v2.
registry.architectures("spacy_lstm_ner.BiLSTMCRFTagger.v1")(build_bilstm_crf_tagger)


def _build_tagger(
    embed: Model, lstm: Model, nO: Optional[int], *, crf: bool, doc_pool_attr: Optional[str]
) -> Model:
    """embed → lstm (→ doc pooling) → dense, ending in a log-softmax, or in the
    `crf` layer whose transition scores the component trains and decodes with."""
    width = lstm.get_dim("nO") * (2 if doc_pool_attr else 1)
    output_layer = Linear(nO=nO, nI=width)
    if crf:
        head = [with_array(output_layer), crf_layer(nO)]
    else:
        head = [with_array(chain(output_layer, log_softmax()))]
    model = tagger_chain(embed, lstm, *head, doc_pool_attr=doc_pool_attr)
    if crf:
        model.set_ref("crf", head[1])
    model.set_ref("embed", embed)
    model.set_ref("lstm", lstm)
    model.set_ref("output_layer", output_layer)
    return model


def _build_lstm(
    embed,
    hidden_width,
    depth,
    bidirectional,
    dropout,
    chunk_size,
    window,
    nO,
    inference_dtype,
    variational_dropout,
    owner,
) -> Model:
    """The (Bi)LSTM over `embed`'s vectors, after checking every setting;
    errors name the architecture `owner`."""
    check_positive("hidden_width", hidden_width, owner)
    check_positive("depth", depth, owner)
    check_positive("chunk_size", chunk_size, owner)
    check_positive("window", window, owner)
    check_rate("dropout", dropout, owner)
    if nO is not None:
        check_positive("nO", nO, owner)
    if inference_dtype not in INFERENCE_DTYPES:
        raise ValueError(
            f"{owner} inference_dtype must be one of {', '.join(INFERENCE_DTYPES)}, got {inference_dtype!r}."
        )
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
        variational_dropout=variational_dropout,
    )


def _check_doc_pool_attr(attr: Optional[str], owner: str) -> None:
    if attr is not None and intify_attr(attr) is None:
        raise ValueError(f"{owner} doc_pool_attr: {attr!r} is not a spaCy token attribute.")


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
