"""A recurrent (LSTM / BiLSTM) named-entity tagger for spaCy pipelines."""
from .architectures import build_bilstm_tagger
from .pipe import LSTMEntityRecognizer, make_lstm_ner
from .scorer import make_masked_accuracy_scorer, score_lstm_ner

__all__ = [
    "LSTMEntityRecognizer",
    "build_bilstm_tagger",
    "make_lstm_ner",
    "make_masked_accuracy_scorer",
    "score_lstm_ner",
]
