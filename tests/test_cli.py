"""`python -m spacy_lstm_ner`: one command line whose commands are thin over the library.
`apply` runs in test_apply.py, on a Dask cluster."""

import spacy
from spacy.tokens import DocBin
from spacy.util import make_tempdir
from util import TRAIN_DATA, make_examples, run_python


def test_the_command_line_lists_its_commands():
    result = run_python("-m", "spacy_lstm_ner", "--help")
    assert "apply" in result.stdout and "calibrate" in result.stdout


def test_calibrate_fits_and_saves(trained_nlp):
    with make_tempdir() as tmp:
        trained_nlp.to_disk(tmp / "model")
        dev = [(text, ents[:1]) for text, ents in TRAIN_DATA]
        DocBin(docs=[eg.reference for eg in make_examples(trained_nlp, dev)]).to_disk(
            tmp / "dev.spacy"
        )
        result = run_python(
            "-m",
            "spacy_lstm_ner",
            "calibrate",
            tmp / "model",
            tmp / "dev.spacy",
            "--output",
            tmp / "calibrated",
        )
        assert "ECE after" in result.stdout and "Saved the calibrated pipeline" in result.stdout
        assert spacy.load(tmp / "calibrated").get_pipe("lstm_ner").cfg["temperature"] != 1.0
        assert spacy.load(tmp / "model").get_pipe("lstm_ner").cfg["temperature"] == 1.0


def test_calibrate_names_a_missing_component(trained_nlp):
    with make_tempdir() as tmp:
        trained_nlp.to_disk(tmp / "model")
        DocBin(docs=[eg.reference for eg in make_examples(trained_nlp)]).to_disk(tmp / "dev.spacy")
        failed = run_python(
            "-m",
            "spacy_lstm_ner",
            "calibrate",
            tmp / "model",
            tmp / "dev.spacy",
            "-c",
            "ner",
            check=False,
        )
        assert failed.returncode != 0 and "no component 'ner'" in failed.stdout


def test_calibrate_without_predicted_entities_keeps_the_temperature(trained_nlp):
    with make_tempdir() as tmp:
        trained_nlp.to_disk(tmp / "model")
        DocBin(
            docs=[
                eg.reference for eg in make_examples(trained_nlp, [("Nothing happened here.", [])])
            ]
        ).to_disk(tmp / "dev.spacy")
        result = run_python("-m", "spacy_lstm_ner", "calibrate", tmp / "model", tmp / "dev.spacy")
        assert (
            "predicts no entity" in result.stdout and "The temperature stays 1.0" in result.stdout
        )
        assert spacy.load(tmp / "model").get_pipe("lstm_ner").cfg["temperature"] == 1.0
