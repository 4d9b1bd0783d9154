"""The `lstm_ner` factory, as spaCy keeps its own in `spacy.pipeline.factories`."""

from typing import Callable, Optional

from spacy.language import Language
from thinc.api import Config, Model

from .pipe import LSTMEntityRecognizer

# The model of configs/bilstm.cfg, every value named: the architectures'
# defaults are the same (tests/test_defaults.py holds the three together). The
# one difference: the config predicts with inference_dtype = "auto", as it says.
default_model_config = """
[model]
@architectures = "spacy_lstm_ner.BiLSTMTagger.v1"
hidden_width = 64
depth = 1
bidirectional = true
dropout = 0.2
variational_dropout = false
doc_pool_attr = null
chunk_size = 32
window = 4096
nO = null
inference_dtype = "float32"

[model.embed]
@architectures = "spacy_lstm_ner.FeatureEmbed.v1"
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
widths = [64, 16, 32, 16]
rows = [5000, 1000, 2500, 2500]
chars = 0
char_width = 16
include_static_vectors = false
vectors_width = 64
"""
DEFAULT_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "lstm_ner",
    assigns=["doc.ents", "doc.spans", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BILUO",
        "overwrite_ents": False,
        "score_ents": True,
        "spans_key": None,
        "threshold": None,
        "scorer": {"@scorers": "spacy_lstm_ner.masked_accuracy_scorer.v2"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
        "ner_tag_acc": 0.0,
        "ner_entity_tag_acc": 0.0,
    },
)
def make_lstm_ner(
    nlp: Language,
    name: str,
    model: Model,
    scheme: str,
    overwrite_ents: bool,
    score_ents: bool,
    spans_key: Optional[str],
    threshold: Optional[float],
    scorer: Optional[Callable],
) -> "LSTMEntityRecognizer":
    return LSTMEntityRecognizer(
        nlp.vocab,
        model,
        name,
        scheme=scheme,
        overwrite_ents=overwrite_ents,
        score_ents=score_ents,
        spans_key=spans_key,
        threshold=threshold,
        scorer=scorer,
    )
