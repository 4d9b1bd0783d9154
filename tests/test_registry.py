"""Every entry point the package declares resolves through spaCy's registry."""

from importlib.metadata import entry_points

import pytest
import spacy
from spacy.language import Language
from spacy.util import registry
from util import run_python

REGISTRIES = {
    "spacy_factories": "factories",
    "spacy_architectures": "architectures",
    "spacy_scorers": "scorers",
    "spacy_callbacks": "callbacks",
}


def declared_entry_points():
    return [
        (group, ep)
        for group in REGISTRIES
        for ep in entry_points(group=group)
        if ep.value.startswith("spacy_lstm_ner.")
    ]


def test_entry_points_are_declared():
    names = {(group, ep.name) for group, ep in declared_entry_points()}
    assert names == {
        ("spacy_factories", "lstm_ner"),
        ("spacy_architectures", "spacy_lstm_ner.BiLSTMTagger.v1"),
        ("spacy_architectures", "spacy_lstm_ner.BiLSTMCRFTagger.v1"),
        ("spacy_architectures", "spacy_lstm_ner.BiLSTMCRFTagger.v2"),
        ("spacy_architectures", "spacy_lstm_ner.WordEmbed.v1"),
        ("spacy_architectures", "spacy_lstm_ner.FeatureEmbed.v1"),
        ("spacy_architectures", "spacy_lstm_ner.FeatureEmbed.v2"),
        ("spacy_scorers", "spacy_lstm_ner.masked_accuracy_scorer.v1"),
        ("spacy_scorers", "spacy_lstm_ner.masked_accuracy_scorer.v2"),
        ("spacy_callbacks", "spacy_lstm_ner.resume_from.v1"),
        ("spacy_callbacks", "spacy_lstm_ner.check_dev_labels.v1"),
    }


@pytest.mark.parametrize("group,entry_point", declared_entry_points())
def test_entry_point_resolves_in_registry(group, entry_point):
    if group == "spacy_factories":
        spacy.blank("en")  # a Language loads the factory entry points
        assert Language.has_factory(entry_point.name)
    assert registry.get(REGISTRIES[group], entry_point.name) is entry_point.load()


def test_add_pipe_by_name_in_fresh_process():
    """`add_pipe("lstm_ner")` works without importing the package first."""
    code = (
        "import sys, spacy; nlp = spacy.blank('en'); nlp.add_pipe('lstm_ner'); "
        "assert 'spacy_lstm_ner' in sys.modules; print(nlp.pipe_names)"
    )
    assert "['lstm_ner']" in run_python("-c", code).stdout


def test_default_scorer_and_weights():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner")
    assert ner.scorer is registry.scorers.get("spacy_lstm_ner.masked_accuracy_scorer.v2")()
    weights = nlp.config["training"]["score_weights"]
    assert weights["ents_f"] == 1.0
    assert weights["ner_tag_acc"] == 0.0 and weights["ner_entity_tag_acc"] == 0.0
