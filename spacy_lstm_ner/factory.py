"""The `lstm_ner` factory, as spaCy keeps its own in `spacy.pipeline.factories`."""

from typing import Callable, Optional

from spacy.language import Language
from thinc.api import Model

from .pipe import DEFAULT_MODEL, LSTMEntityRecognizer


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
