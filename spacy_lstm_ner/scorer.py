"""The component's scorer: entity P/R/F plus masked tag accuracies."""

from typing import Any, Dict, Iterable

from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Token
from spacy.training import Example
from spacy.util import registry


@registry.scorers("spacy_lstm_ner.masked_accuracy_scorer.v2")
def make_masked_accuracy_scorer():
    return score_lstm_ner


@registry.scorers("spacy_lstm_ner.masked_accuracy_scorer.v1")
def make_masked_accuracy_scorer_v1():
    """v1 wrote the masked accuracies as `token_acc` and `entity_token_acc`;
    spaCy's tokenization score is also `token_acc`, so one overwrote the
    other. Kept so that pipelines saved with v1 load; use v2."""
    return score_lstm_ner_v1


def score_lstm_ner(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """`ents_p/r/f` and `ents_per_type` as spaCy's NER reports them;
    `ner_tag_acc`: share of tokens whose IOB entity tag (position and type)
    is right, over tokens with gold annotation; `ner_entity_tag_acc`: the
    same over tokens inside gold entities."""
    examples = list(examples)
    scores = get_ner_prf(examples)
    scores["ner_tag_acc"] = _tag_accuracy(examples)
    entity_examples = [Example(eg.predicted, _only_entity_tokens(eg.reference)) for eg in examples]
    scores["ner_entity_tag_acc"] = _tag_accuracy(entity_examples)
    return scores


def score_lstm_ner_v1(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    scores = score_lstm_ner(examples)
    scores["token_acc"] = scores.pop("ner_tag_acc")
    scores["entity_token_acc"] = scores.pop("ner_entity_tag_acc")
    return scores


def iob_tag(token: Token) -> str:
    """The token's IOB entity tag, e.g. `B-PER`, `O`; "" where missing."""
    if token.ent_iob_ in ("", "O"):
        return token.ent_iob_
    return f"{token.ent_iob_}-{token.ent_type_}"


def _tag_accuracy(examples: Iterable[Example]):
    scores = Scorer.score_token_attr(
        examples, "ner_tag", getter=lambda token, _: iob_tag(token), missing_values={""}
    )
    return scores["ner_tag_acc"]


def _only_entity_tokens(doc: Doc) -> Doc:
    """A copy of `doc` whose tokens outside its entities count as unannotated."""
    masked = doc.copy()
    masked.set_ents(list(masked.ents), default="missing")
    return masked
