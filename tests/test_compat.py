"""Pipelines saved with the v1 architectures and scorer keep loading; the v2
scorer's keys do not collide with spaCy's own."""

import json

import pytest
import spacy
from spacy.training import Example
from util import ROOT, TRAIN_DATA

DATA = ROOT / "tests" / "data"


@pytest.mark.parametrize("name", ["v1_softmax", "v1_crf"])
def test_pipelines_saved_with_v1_load_and_predict_as_they_did(name):
    saved = json.loads((DATA / "v1_predictions.json").read_text(encoding="utf8"))
    nlp = spacy.load(DATA / name)
    got = [
        [[ent.start_char, ent.end_char, ent.label_] for ent in doc.ents]
        for doc in nlp.pipe(saved["texts"])
    ]
    assert got == saved["ents"][name]


def half_right_examples(nlp):
    """Gold entities of which the pipeline finds some and misses others."""
    data = [(text, ents) for text, ents in TRAIN_DATA if ents]
    return [
        Example(
            nlp(text),
            Example.from_dict(
                nlp.make_doc(text), {"entities": ents + [(len(text) - 1, len(text), "ORG")]}
            ).reference,
        )
        for text, ents in data
    ]


def test_v2_scores_sit_beside_spacys_tokenization_scores():
    nlp = spacy.load(DATA / "v1_crf")
    nlp.get_pipe("lstm_ner").scorer = spacy.registry.scorers.get(
        "spacy_lstm_ner.masked_accuracy_scorer.v2"
    )()
    scores = nlp.evaluate(half_right_examples(nlp))
    assert scores["token_acc"] == 1.0
    assert 0.5 < scores["ner_tag_acc"] < 1.0
    assert 0.0 < scores["ner_entity_tag_acc"] < scores["ner_tag_acc"]


def test_v1_scorer_keeps_its_keys():
    nlp = spacy.load(DATA / "v1_crf")
    scores = nlp.get_pipe("lstm_ner").score(half_right_examples(nlp))
    assert 0.5 < scores["token_acc"] < 1.0 and "ner_tag_acc" not in scores
