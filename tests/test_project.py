"""`spacy project run` on a small slice of the shipped corpus, in temporary copies."""

import json
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from thinc.api import Config
from util import ROOT, project_run, run_python, write_gmb_slice

N_SENTENCES = 90
SPLITS = "train:1-60,dev:61-75,test:76-90"
VARS = [
    "--vars.config",
    "tiny",
    "--vars.gmb_csv",
    "slice.csv",
    "--vars.splits",
    SPLITS,
    "--vars.vectors_archive",
    "vectors.npz",
]


def make_project(tmp: Path) -> Path:
    """A fresh copy of the project in `tmp`: project.yml, its scripts, a tiny config,
    the first sentences of the corpus and a five-word vectors archive, nothing run yet."""
    shutil.copy(ROOT / "project.yml", tmp)
    (tmp / "configs").mkdir()
    config = Config().from_disk(ROOT / "configs" / "bilstm.cfg", interpolate=False)
    config["training"].update({"max_steps": 40, "eval_frequency": 20})
    config["training"]["batcher"]["size"] = 300
    config["components"]["lstm_ner"]["model"]["hidden_width"] = 16
    config["components"]["lstm_ner"]["model"]["embed"]["widths"] = [8, 4, 4, 4]
    config.to_disk(tmp / "configs" / "tiny.cfg", interpolate=False)
    shutil.copytree(ROOT / "scripts", tmp / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    write_gmb_slice(tmp / "slice.csv", N_SENTENCES)
    vectors = [
        "5 3",
        "the 0.1 0.2 0.3",
        "of 0.3 0.2 0.1",
        "iraq -0.5 0.5 0.0",
        "said 0.0 0.1 -0.1",
        "sharon 0.2 -0.2 0.4",
    ]
    (tmp / "vectors.txt").write_text("\n".join(vectors) + "\n", encoding="utf8")
    run_python(tmp / "scripts" / "pack_vectors.py", tmp / "vectors.txt", tmp / "vectors.npz")
    return tmp


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory):
    """A fresh copy after `spacy project run train`, its first command. Read only:
    a test that runs more commands runs them in a copy of its own."""
    project = make_project(tmp_path_factory.mktemp("project"))
    project_run(project, "train", *VARS)
    return project


def copy_of(project: Path, tmp: Path) -> Path:
    return Path(shutil.copytree(project, tmp / "project"))


CONLL = """Sharon NNP B-PER
flew VBD O
to TO O
Miami NNP B-GEO
. . O

The DT O
United NNP B-ORG
Nations NNP I-ORG
met VBD O
. . O
"""


def test_every_dependency_is_one_path():
    """weasel joins two list items that are each a whole `${vars...}` when they
    stand side by side ("a, b"), which then fails as one missing file."""
    from weasel.util import load_project_config

    for command in load_project_config(ROOT)["commands"]:
        for dep in command.get("deps", []) + command.get("outputs", []):
            assert ", " not in dep, (command["name"], dep)


def test_conll_convert_uses_spacys_converter(project):
    (project / "assets" / "conll").mkdir(parents=True)
    for split in ("train", "valid", "test"):
        (project / "assets" / "conll" / f"{split}.txt").write_text(CONLL)
    project_run(project, "conll-convert", *VARS)
    assert (project / "corpus" / "conll" / "valid.spacy").exists()
    nlp = spacy.blank("en")
    docs = list(
        DocBin().from_disk(project / "corpus" / "conll" / "train.spacy").get_docs(nlp.vocab)
    )
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == [
        [("Sharon", "PER"), ("Miami", "GEO"), ("United Nations", "ORG")],
    ]
    assert [sent.text for sent in docs[0].sents] == [
        "Sharon flew to Miami .",
        "The United Nations met .",
    ]


def test_train_is_the_first_command_on_a_fresh_copy(trained_project):
    assert (trained_project / "corpus" / "train.spacy").exists()
    assert (trained_project / "training" / "tiny" / "model-best" / "meta.json").exists()
    with_vectors = spacy.load(trained_project / "corpus" / "vectors")
    assert with_vectors.vocab.vectors.shape == (5, 3)
    assert [token.has_vector for token in with_vectors("Iraq IRAQ said Paris")] == [
        True,
        True,
        True,
        False,
    ]


def test_all_workflow_evaluates_and_packages(trained_project, tmp_path):
    project = copy_of(trained_project, tmp_path)
    output = project_run(project, "all", *VARS)
    assert "Skipping 'convert'" in output and "Skipping 'train'" in output
    metrics = json.loads((project / "metrics" / "tiny.json").read_text())
    for key in ("ents_p", "ents_r", "ents_f", "ner_tag_acc", "ner_entity_tag_acc", "speed"):
        assert metrics[key] is not None
    assert metrics["ents_per_type"]
    meta_path = next((project / "packages").glob("*/meta.json"))
    requirements = json.loads(meta_path.read_text())["requirements"]
    assert any(req.startswith("spacy-lstm-ner") for req in requirements), requirements


def test_resume_goes_on_from_model_last(trained_project, tmp_path):
    """With the learning rate at 0 (and no averaged weights), a run saves the
    weights it started from: the resumed run's are model-last's, a run without
    the resume callback's are not."""
    project = copy_of(trained_project, tmp_path)
    config = Config().from_disk(project / "configs" / "tiny.cfg", interpolate=False)
    config["training"].update({"max_steps": 2, "eval_frequency": 1})
    config["training"]["optimizer"].update({"learn_rate": 0.0, "use_averages": False})
    config.to_disk(project / "configs" / "tiny.cfg", interpolate=False)
    project_run(project, "resume", *VARS)
    paths = ["--paths.train", "corpus/train.spacy", "--paths.dev", "corpus/dev.spacy"]
    run_python(
        "-m",
        "spacy",
        "train",
        "configs/tiny.cfg",
        "--output",
        "training/tiny-fresh",
        *paths,
        cwd=project,
    )
    model_last = {
        name: project / "training" / name / "model-last"
        for name in ("tiny", "tiny-resumed", "tiny-fresh")
    }
    resumed = json.loads((model_last["tiny-resumed"] / "meta.json").read_text())
    trained = json.loads((model_last["tiny"] / "meta.json").read_text())
    assert resumed["labels"] == trained["labels"]
    weights = {
        name: (path / "lstm_ner" / "model").read_bytes() for name, path in model_last.items()
    }
    assert weights["tiny-resumed"] == weights["tiny"]
    assert weights["tiny-fresh"] != weights["tiny"]


def test_conll_workflow_scores_seen_and_unseen_test_mentions(project):
    (project / "assets" / "conll").mkdir(parents=True)
    for split in ("train", "valid", "test"):
        (project / "assets" / "conll" / f"{split}.txt").write_text(CONLL)
    shutil.copytree(ROOT / "benchmarks", project / "benchmarks")
    project_run(project, "conll", *VARS, "--vars.conll_config", "tiny")
    vectors = spacy.load(project / "corpus" / "vectors")
    assert [token.has_vector for token in vectors("Sharon SHARON x")] == [True, True, False]
    assert not (project / "corpus" / "train.spacy").exists()
    scores = json.loads((project / "metrics" / "conll_tiny.json").read_text())
    assert 0.0 <= scores["ents_f"] <= 1.0 and set(scores["ents_per_type"]) <= {"PER", "GEO", "ORG"}
    for unit in ("sentences", "documents", "articles"):
        novelty = json.loads((project / "metrics" / f"conll_tiny_{unit}.json").read_text())
        assert novelty["unseen_share"] == 0.0 and novelty["seen"]["n_gold"] == 3
    sentences = json.loads((project / "metrics" / "conll_tiny_sentences.json").read_text())
    assert sentences["ents_f"] == pytest.approx(scores["ents_f"])
