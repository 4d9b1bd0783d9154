"""Registered architectures: the tagger (embed → (Bi)LSTM → dense → log-softmax)
and a plain word embedding for it."""
from typing import List, Optional

from spacy.attrs import intify_attr
from spacy.ml.featureextractor import FeatureExtractor
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Linear, Model, chain, with_array
from thinc.types import Floats2d

from .layers import log_softmax, padded_lstm


@registry.architectures("spacy_lstm_ner.BiLSTMTagger.v1")
def build_bilstm_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    chunk_size: int = 32,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Log-probabilities over the tag set for every token of every doc.

    embed: any layer giving one vector per token, e.g. spacy.MultiHashEmbed.v2
        or a spacy.Tok2VecListener.v1 that shares a tok2vec component.
    hidden_width: LSTM state width per direction.
    depth: number of stacked LSTM layers.
    bidirectional: run a second LSTM right to left and concatenate both.
    dropout: dropout rate on the LSTM's input, between its layers and on its output.
    chunk_size: the LSTM runs the docs of a batch sorted by length, this many
        at a time, so that little of each padded chunk is padding (speed only).
    nO: number of tags; left open, the component sets it from its labels.
    """
    _check_positive("hidden_width", hidden_width)
    _check_positive("depth", depth)
    _check_positive("chunk_size", chunk_size)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"BiLSTMTagger dropout must be in [0, 1), got {dropout!r}.")
    if nO is not None:
        _check_positive("nO", nO)
    lstm = padded_lstm(
        embed.maybe_get_dim("nO"),
        hidden_width,
        depth=depth,
        bidirectional=bidirectional,
        dropout=dropout,
        chunk_size=chunk_size,
    )
    output_layer = Linear(nO=nO, nI=lstm.get_dim("nO"))
    model = chain(embed, lstm, with_array(chain(output_layer, log_softmax())))
    model.set_ref("embed", embed)
    model.set_ref("lstm", lstm)
    model.set_ref("output_layer", output_layer)
    return model


@registry.architectures("spacy_lstm_ner.WordEmbed.v1")
def build_word_embed(
    width: int = 50, attr: str = "NORM", rows: int = 20000
) -> Model[List[Doc], List[Floats2d]]:
    """One learned vector per token, looked up by a single attribute (hashed
    into `rows` rows): the plain word embedding of the original course model."""
    _check_positive("width", width, "WordEmbed")
    _check_positive("rows", rows, "WordEmbed")
    if intify_attr(attr) is None:
        raise ValueError(f"WordEmbed attr {attr!r} is not a spaCy token attribute.")
    embed = HashEmbed(nO=width, nV=rows, column=0, seed=7)
    return chain(FeatureExtractor([attr]), with_array(embed))


def _check_positive(name: str, value: int, owner: str = "BiLSTMTagger") -> None:
    if value < 1:
        raise ValueError(f"{owner} {name} must be a positive integer, got {value!r}.")
