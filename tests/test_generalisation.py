"""`benchmarks/generalisation.py`: entity scores on the mentions seen and unseen in training."""

import json

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from typer.testing import CliRunner

from benchmarks.generalisation import app, evaluate_novelty, score_by_novelty, training_mentions

TRAIN = [
    (["Bob", "lives", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"]),
    (["paris", "Hilton", "sang"], ["B-PER", "I-PER", "O"]),
]
# (words, gold tags, predicted tags)
TEST = [
    # Paris/LOC seen, found; Bob/PER seen, predicted as Bob/ORG (unseen, wrong);
    # Alice/PER unseen, missed; Lyon/LOC predicted, spurious and unseen.
    (
        ["Alice", "met", "Bob", "in", "Paris", "near", "Lyon"],
        ["B-PER", "O", "B-PER", "O", "B-LOC", "O", "O"],
        ["O", "O", "B-ORG", "O", "B-LOC", "O", "B-LOC"],
    ),
    # Acme/ORG unseen, found; PARIS/LOC seen (lowercased), missed.
    (["Acme", "opened", "in", "PARIS"], ["B-ORG", "O", "O", "B-LOC"], ["B-ORG", "O", "O", "O"]),
]


@pytest.fixture
def nlp():
    return spacy.blank("en")


def train_docs(nlp):
    return [Doc(nlp.vocab, words=words, ents=tags) for words, tags in TRAIN]


def test_training_mentions_lowercases_and_keeps_labels_apart(nlp):
    assert training_mentions(train_docs(nlp)) == {
        ("bob", "PER"),
        ("paris", "LOC"),
        ("paris hilton", "PER"),
    }
    docs = [Doc(nlp.vocab, words=["Paris", "paris"], ents=["B-LOC", "B-PER"])]
    assert training_mentions(docs) == {("paris", "LOC"), ("paris", "PER")}


def test_score_by_novelty_groups_gold_and_predicted_mentions_by_their_own_text_and_label(nlp):
    examples = [
        Example(Doc(nlp.vocab, words=words, ents=pred), Doc(nlp.vocab, words=words, ents=gold))
        for words, gold, pred in TEST
    ]
    scores = score_by_novelty(examples, training_mentions(train_docs(nlp)))
    # seen: gold Paris (found), Bob/PER, PARIS; predicted Paris
    assert scores["seen"] == pytest.approx(
        {"p": 1.0, "r": 1 / 3, "f": 0.5, "n_gold": 3, "n_pred": 1}
    )
    # unseen: gold Alice, Acme (found); predicted Bob/ORG, Lyon, Acme
    assert scores["unseen"] == pytest.approx(
        {"p": 1 / 3, "r": 0.5, "f": 0.4, "n_gold": 2, "n_pred": 3}
    )
    assert scores["unseen_share"] == pytest.approx(0.4)


def test_score_by_novelty_without_entities_is_zero(nlp):
    doc = Doc(nlp.vocab, words=["nothing", "here"])
    scores = score_by_novelty([Example(doc, doc.copy())], {("paris", "LOC")})
    for group in ("seen", "unseen"):
        assert scores[group] == {"p": 0.0, "r": 0.0, "f": 0.0, "n_gold": 0, "n_pred": 0}
    assert scores["unseen_share"] == 0.0


def test_score_by_novelty_refuses_other_tokens(nlp):
    predicted = Doc(nlp.vocab, words=["New", "York"])
    with pytest.raises(ValueError, match="gold tokens"):
        score_by_novelty([Example(predicted, Doc(nlp.vocab, words=["New York"]))], set())


def test_evaluate_novelty_and_cli_on_a_saved_pipeline(nlp, tmp_path):
    """An entity ruler that finds Paris/LOC (seen) and Acme/ORG (unseen) on the gold tokens."""
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "LOC", "pattern": "Paris"}, {"label": "ORG", "pattern": "Acme"}])
    nlp.to_disk(tmp_path / "model")
    DocBin(docs=train_docs(nlp)).to_disk(tmp_path / "train.spacy")
    test = [Doc(nlp.vocab, words=words, ents=gold) for words, gold, _ in TEST]
    DocBin(docs=test).to_disk(tmp_path / "test.spacy")
    paths = [tmp_path / "model", tmp_path / "train.spacy", tmp_path / "test.spacy"]
    scores = evaluate_novelty(*paths)
    assert scores["ents_p"] == pytest.approx(1.0) and scores["ents_r"] == pytest.approx(0.4)
    assert scores["seen"] == pytest.approx(
        {"p": 1.0, "r": 1 / 3, "f": 0.5, "n_gold": 3, "n_pred": 1}
    )
    assert scores["unseen"] == pytest.approx(
        {"p": 1.0, "r": 0.5, "f": 2 / 3, "n_gold": 2, "n_pred": 1}
    )
    result = CliRunner().invoke(app, [*map(str, paths), "--output", str(tmp_path / "scores.json")])
    assert result.exit_code == 0, result.output
    assert "| unseen | 40.0% | 1.000 | 0.500 | 0.667 |" in result.output
    assert json.loads((tmp_path / "scores.json").read_text()) == scores
