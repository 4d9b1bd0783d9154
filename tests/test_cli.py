"""`python -m spacy train` / `evaluate` with the shipped config on a tiny corpus."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import TRAIN_DATA, make_examples

ROOT = Path(__file__).parent.parent
SMALL = [
    "--training.max_steps", "30",
    "--training.eval_frequency", "10",
    "--training.batcher.size", "4",
    "--components.lstm_ner.model.hidden_width", "16",
    "--components.lstm_ner.model.embed.width", "16",
]


def run(*args, cwd=None):
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in make_examples(nlp)]).to_disk(tmp / "train.spacy")
    paths = ["--paths.train", str(tmp / "train.spacy"), "--paths.dev", str(tmp / "train.spacy")]
    run("-m", "spacy", "train", str(ROOT / "configs" / "bilstm.cfg"), "--output", str(tmp / "out"), *paths, *SMALL)
    return tmp


def test_train_writes_a_loadable_pipeline(trained_dir):
    meta = json.loads((trained_dir / "out" / "model-last" / "meta.json").read_text())
    assert meta["pipeline"] == ["lstm_ner"]
    assert set(meta["labels"]["lstm_ner"]) == {"GEO", "ORG", "PER", "TIM"}
    assert {"ents_f", "token_acc", "entity_token_acc"} <= set(meta["performance"])


def test_evaluate_reports_scorer_keys(trained_dir):
    output = trained_dir / "metrics.json"
    run("-m", "spacy", "evaluate", str(trained_dir / "out" / "model-last"), str(trained_dir / "train.spacy"), "--output", str(output))
    metrics = json.loads(output.read_text())
    for key in ("ents_p", "ents_r", "ents_f", "token_acc", "entity_token_acc"):
        assert 0.0 <= metrics[key] <= 1.0
    assert set(metrics["ents_per_type"]) <= {"GEO", "ORG", "PER", "TIM"}


def test_trained_pipeline_loads_in_fresh_process(trained_dir):
    model = trained_dir / "out" / "model-last"
    code = (
        "import sys, spacy; nlp = spacy.load(sys.argv[1]); "
        "docs = list(nlp.pipe(sys.argv[2:])); "
        "print(repr([[(e.text, e.label_) for e in d.ents] for d in docs]))"
    )
    texts = [text for text, _ in TRAIN_DATA]
    first = run("-c", code, str(model), *texts).stdout
    second = run("-c", code, str(model), *texts).stdout
    nlp = spacy.load(model)
    assert first == second == repr([[(e.text, e.label_) for e in nlp(t).ents] for t in texts]) + "\n"
