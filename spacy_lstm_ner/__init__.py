"""A recurrent (LSTM / BiLSTM) named-entity tagger for spaCy pipelines."""

from .architectures import build_bilstm_crf_tagger, build_bilstm_tagger
from .callbacks import make_check_dev_labels, make_resume_from
from .factory import make_lstm_ner
from .layers import CRFOutput
from .losses import CRFLoss, TagNLL
from .pipe import LSTMEntityRecognizer
from .potentials import ChainScores, Potentials
from .scorer import make_masked_accuracy_scorer, score_lstm_ner
from .tagset import TagSet

__all__ = [
    "CRFLoss",
    "ChainScores",
    "CRFOutput",
    "LSTMEntityRecognizer",
    "Potentials",
    "TagNLL",
    "TagSet",
    "build_bilstm_crf_tagger",
    "build_bilstm_tagger",
    "make_check_dev_labels",
    "make_lstm_ner",
    "make_masked_accuracy_scorer",
    "make_resume_from",
    "score_lstm_ner",
]
