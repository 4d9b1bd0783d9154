"""Calibration: the expected calibration error, the temperature fit, and
`calibrate` on a trained component."""

import numpy
import pytest
import spacy
from spacy.util import make_tempdir
from util import TRAIN_DATA, ent_offsets, make_examples, scored

from spacy_lstm_ner.calibration import calibration_error, fit_temperature

TEXTS = [text for text, _ in TRAIN_DATA] + ["Merkel flew to Berlin and Paris on Friday.", "", "  "]


def test_calibration_error_and_temperature_fit():
    assert calibration_error(
        numpy.array([0.95, 0.95, 0.15]), numpy.array([True, False, False])
    ) == pytest.approx((2 * abs(0.95 - 0.5) + abs(0.15 - 0.0)) / 3)
    rng = numpy.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=20000)
    correct = rng.random(20000) < 1 / (1 + numpy.exp(-logits))

    def overconfident(temperature):
        return 1 / (1 + numpy.exp(-3 * logits / temperature))

    assert fit_temperature(overconfident, correct) == pytest.approx(3.0, rel=0.1)
    assert (
        calibration_error(overconfident(3.0), correct)
        < calibration_error(overconfident(1.0), correct) / 3
    )


def test_calibrate_changes_scores_not_entities_and_is_saved(head_nlp):
    with make_tempdir() as path:
        head_nlp.to_disk(path)
        nlp = spacy.load(path)
    before = [(ent_offsets(doc), scored(doc)) for doc in nlp.pipe(TEXTS)]
    noisy = make_examples(nlp, [(text, ents[:1]) for text, ents in TRAIN_DATA])
    result = nlp.get_pipe("lstm_ner").calibrate(noisy)
    assert (
        result["temperature"] != 1.0
        and result["temperature"] == nlp.get_pipe("lstm_ner").cfg["temperature"]
    )
    assert result["ece_after"] <= result["ece_before"]
    after = [(ent_offsets(doc), scored(doc)) for doc in nlp.pipe(TEXTS)]
    assert [offsets for offsets, _ in after] == [offsets for offsets, _ in before]
    assert [s for _, s in after] != [s for _, s in before]
    with make_tempdir() as path:
        nlp.to_disk(path)
        assert spacy.load(path).get_pipe("lstm_ner").cfg["temperature"] == pytest.approx(
            result["temperature"], rel=1e-9
        )


def test_calibrate_without_predicted_entities_says_so(trained_nlp):
    with pytest.raises(ValueError, match="predicts no entity"):
        trained_nlp.get_pipe("lstm_ner").calibrate(make_examples(trained_nlp, [("", [])]))
