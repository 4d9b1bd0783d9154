"""A recurrent (LSTM / BiLSTM) named-entity tagger for spaCy pipelines."""
from .architectures import build_bilstm_tagger
from .pipe import LSTMEntityRecognizer, make_lstm_ner
from .resume import make_resume_from
from .scorer import make_masked_accuracy_scorer, score_lstm_ner

__all__ = [
    "LSTMEntityRecognizer",
    "build_bilstm_tagger",
    "make_lstm_ner",
    "make_masked_accuracy_scorer",
    "make_resume_from",
    "score_lstm_ner",
]
