"""The masked-accuracy scorer against hand-counted examples."""

import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from util import make_examples

from spacy_lstm_ner.scorer import score_lstm_ner


@pytest.fixture
def vocab():
    return spacy.blank("en").vocab


def example(vocab, words, gold, predicted):
    return Example(Doc(vocab, words=words, ents=predicted), Doc(vocab, words=words, ents=gold))


@pytest.fixture
def examples(vocab):
    return [
        example(
            vocab,
            ["Sharon", "flew", "to", "New", "York", "today"],
            ["B-PER", "O", "O", "B-GEO", "I-GEO", ""],  # "today": no gold annotation
            ["B-PER", "O", "O", "B-GEO", "O", "B-TIM"],
        ),
        example(vocab, ["Paris", "is", "big"], ["B-GEO", "O", "O"], ["B-PER", "O", "O"]),
    ]


def test_token_accuracy_counts_only_annotated_tokens(examples):
    scores = score_lstm_ner(examples)
    # 8 annotated tokens; York and Paris are wrong; "today" never counts.
    assert scores["ner_tag_acc"] == pytest.approx(6 / 8)
    # 4 tokens inside gold entities: Sharon and New are right.
    assert scores["ner_entity_tag_acc"] == pytest.approx(2 / 4)


def test_entity_scores_match_spacy_ner_conventions(examples):
    scores = score_lstm_ner(examples)
    # tp: Sharon; fp: New (GEO), Paris (PER); fn: New York, Paris (GEO).
    # "today" lies on unannotated gold and counts neither way.
    assert scores["ents_p"] == pytest.approx(1 / 3)
    assert scores["ents_r"] == pytest.approx(1 / 3)
    assert scores["ents_f"] == pytest.approx(1 / 3)
    assert scores["ents_per_type"]["PER"] == pytest.approx({"p": 0.5, "r": 1.0, "f": 2 / 3})
    assert scores["ents_per_type"]["GEO"] == pytest.approx({"p": 0.0, "r": 0.0, "f": 0.0})
    assert scores["ents_per_type"]["TIM"] == {"p": 0.0, "r": 0.0, "f": 0.0}


def test_all_outside_tagger_scores_zero_on_entity_tokens(vocab):
    words = ["Sharon", "flew", "to", "Miami", "and", "back", "home", "again"]
    gold = ["B-PER", "O", "O", "B-GEO", "O", "O", "O", "O"]
    scores = score_lstm_ner([example(vocab, words, gold, ["O"] * len(words))])
    assert scores["ner_tag_acc"] == pytest.approx(6 / 8)
    assert scores["ner_entity_tag_acc"] == 0.0
    assert scores["ents_r"] == 0.0


def test_unannotated_reference_gives_no_figures(vocab):
    words = ["Nothing", "annotated"]
    eg = Example(Doc(vocab, words=words, ents=["B-PER", "O"]), Doc(vocab, words=words))
    scores = score_lstm_ner([eg])
    assert scores["ner_tag_acc"] is None and scores["ner_entity_tag_acc"] is None
    assert scores["ents_f"] is None


def test_scorer_runs_through_nlp_evaluate(trained_nlp):
    scores = trained_nlp.evaluate(make_examples(trained_nlp))
    assert scores["ents_f"] == 1.0
    assert scores["ner_tag_acc"] == 1.0 and scores["ner_entity_tag_acc"] == 1.0
