"""The registered tagger architecture: embed → (Bi)LSTM → dense → log-softmax."""
from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, chain, with_array
from thinc.types import Floats2d

from .layers import log_softmax, padded_lstm


@registry.architectures("spacy_lstm_ner.BiLSTMTagger.v1")
def build_bilstm_tagger(
    embed: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    depth: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Log-probabilities over the tag set for every token of every doc.

    embed: any layer giving one vector per token, e.g. spacy.MultiHashEmbed.v2
        or a spacy.Tok2VecListener.v1 that shares a tok2vec component.
    hidden_width: LSTM state width per direction.
    depth: number of stacked LSTM layers.
    bidirectional: run a second LSTM right to left and concatenate both.
    dropout: dropout rate on the LSTM's input, between its layers and on its output.
    nO: number of tags; left open, the component sets it from its labels.
    """
    _check_positive("hidden_width", hidden_width)
    _check_positive("depth", depth)
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
    )
    output_layer = Linear(nO=nO, nI=lstm.get_dim("nO"))
    model = chain(embed, lstm, with_array(chain(output_layer, log_softmax())))
    model.set_ref("embed", embed)
    model.set_ref("lstm", lstm)
    model.set_ref("output_layer", output_layer)
    return model


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"BiLSTMTagger {name} must be a positive integer, got {value!r}.")
