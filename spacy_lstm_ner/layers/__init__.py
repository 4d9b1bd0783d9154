"""The tagger's thinc layers, one per module. PyTorch is imported when a layer
that needs it is built, not before."""

from .char_cnn import char_cnn
from .character_embed import character_embed
from .crf import CRFOutput, crf_layer
from .fixed_dropout import fixed_dropout
from .log_softmax import log_softmax
from .padded_lstm import INFERENCE_DTYPES, padded_lstm
from .tagger import tagger_chain
from .word_embed import count_words, word_embed

__all__ = [
    "CRFOutput",
    "INFERENCE_DTYPES",
    "char_cnn",
    "character_embed",
    "count_words",
    "crf_layer",
    "fixed_dropout",
    "log_softmax",
    "padded_lstm",
    "tagger_chain",
    "word_embed",
]
