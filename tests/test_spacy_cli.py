"""spaCy's own command line with the shipped configs on a tiny corpus: `python -m spacy
train` and `evaluate`, resuming a run, and the checks at initialize."""

import hashlib
import json

import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from util import ROOT, TRAIN_DATA, run_python, spacy_train, write_corpus, write_vectors

TINY_MODEL = [
    "--components.lstm_ner.model.hidden_width",
    "16",
    "--components.lstm_ner.model.embed.widths",
    "[8,4,4,4]",
]
SMALL = [
    "--training.max_steps",
    "30",
    "--training.eval_frequency",
    "10",
    "--training.batcher.size",
    "40",
    *TINY_MODEL,
]


def final_ents_f(model_dir):
    return json.loads((model_dir / "meta.json").read_text())["performance"]["ents_f"]


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    write_corpus(tmp / "train.spacy")
    spacy_train(tmp, "out", *SMALL)
    return tmp


def test_train_writes_a_loadable_pipeline(trained_dir):
    meta = json.loads((trained_dir / "out" / "model-last" / "meta.json").read_text())
    assert meta["pipeline"] == ["lstm_ner"]
    assert set(meta["labels"]["lstm_ner"]) == {"GEO", "ORG", "PER", "TIM"}
    assert {"ents_f", "ner_tag_acc", "ner_entity_tag_acc"} <= set(meta["performance"])


def test_evaluate_reports_scorer_keys(trained_dir):
    output = trained_dir / "metrics.json"
    run_python(
        "-m",
        "spacy",
        "evaluate",
        trained_dir / "out" / "model-last",
        trained_dir / "train.spacy",
        "--output",
        output,
    )
    metrics = json.loads(output.read_text())
    for key in ("ents_p", "ents_r", "ents_f", "ner_tag_acc", "ner_entity_tag_acc"):
        assert 0.0 <= metrics[key] <= 1.0
    assert set(metrics["ents_per_type"]) <= {"GEO", "ORG", "PER", "TIM"}


def scores_and_entities(nlp, texts):
    """The SHA-256 of lstm_ner's scores of `texts`, and their entities."""
    scores = nlp.get_pipe("lstm_ner").model.predict([nlp.make_doc(text) for text in texts])
    digest = hashlib.sha256(numpy.concatenate(scores).tobytes()).hexdigest()
    return [digest, [[[e.text, e.label_] for e in doc.ents] for doc in nlp.pipe(texts)]]


def test_trained_pipeline_predicts_the_same_in_fresh_processes(trained_dir):
    """`spacy train`'s pipeline, loaded in two fresh processes (the plugin found by
    its entry points) and in this one: bit-identical scores, the same entities."""
    model = trained_dir / "out" / "model-last"
    code = (
        "import hashlib, json, sys, numpy, spacy; nlp = spacy.load(sys.argv[1]); "
        "texts = json.loads(sys.argv[2]); "
        "scores = nlp.get_pipe('lstm_ner').model.predict([nlp.make_doc(t) for t in texts]); "
        "digest = hashlib.sha256(numpy.concatenate(scores).tobytes()).hexdigest(); "
        "print(json.dumps([digest, [[[e.text, e.label_] for e in d.ents] for d in nlp.pipe(texts)]]))"
    )
    texts = [text for text, _ in TRAIN_DATA]
    fresh = [json.loads(run_python("-c", code, model, json.dumps(texts)).stdout) for _ in range(2)]
    assert fresh[0] == fresh[1] == scores_and_entities(spacy.load(model), texts)


def test_training_resumes_from_model_last(tmp_path):
    """An interrupted run goes on from the weights its model-last holds."""
    write_corpus(tmp_path / "train.spacy")
    fast = ["--training.batcher.size", "5", "--training.optimizer.learn_rate", "0.01", *TINY_MODEL]
    spacy_train(
        tmp_path, "first", "--training.max_steps", "80", "--training.eval_frequency", "40", *fast
    )
    one_step = ["--training.max_steps", "1", "--training.eval_frequency", "1", *fast]
    resume = json.dumps(
        {
            "@callbacks": "spacy_lstm_ner.resume_from.v1",
            "path": str(tmp_path / "first" / "model-last"),
        }
    )
    spacy_train(tmp_path, "resumed", *one_step, "--initialize.after_init", resume)
    spacy_train(tmp_path, "fresh", *one_step)
    trained = final_ents_f(tmp_path / "first" / "model-last")
    assert trained > 0.9
    assert final_ents_f(tmp_path / "resumed" / "model-last") > trained - 0.1
    assert final_ents_f(tmp_path / "fresh" / "model-last") < 0.5


def test_resuming_from_a_missing_pipeline_names_it(tmp_path):
    write_corpus(tmp_path / "train.spacy")
    resume = json.dumps(
        {"@callbacks": "spacy_lstm_ner.resume_from.v1", "path": str(tmp_path / "nowhere")}
    )
    result = spacy_train(tmp_path, "out", *SMALL, "--initialize.after_init", resume, check=False)
    assert result.returncode != 0
    assert str(tmp_path / "nowhere" / "lstm_ner") in result.stdout + result.stderr


def test_label_only_in_dev_fails_at_initialize(tmp_path):
    write_corpus(
        tmp_path / "train.spacy", [(t, e) for t, e in TRAIN_DATA if all(l != "ORG" for *_, l in e)]
    )
    write_corpus(tmp_path / "dev.spacy")
    result = spacy_train(tmp_path, "out", *SMALL, dev="dev.spacy", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "dev corpus" in output and "'ORG' in 'Apple opened an office in Berlin.'" in output
    assert not (tmp_path / "out" / "model-last").exists()


def test_label_only_in_dev_is_fine_when_listed_at_initialize(tmp_path):
    write_corpus(
        tmp_path / "train.spacy", [(t, e) for t, e in TRAIN_DATA if all(l != "ORG" for *_, l in e)]
    )
    write_corpus(tmp_path / "dev.spacy")
    labels = ["--initialize.components", '{"lstm_ner": {"labels": ["GEO", "ORG", "PER", "TIM"]}}']
    spacy_train(tmp_path, "out", *SMALL, *labels, dev="dev.spacy")
    meta = json.loads((tmp_path / "out" / "model-last" / "meta.json").read_text())
    assert meta["labels"]["lstm_ner"] == ["GEO", "ORG", "PER", "TIM"]


def test_empty_training_set_fails_at_initialize(tmp_path):
    DocBin().to_disk(tmp_path / "empty.spacy")
    write_corpus(tmp_path / "dev.spacy")
    result = spacy_train(tmp_path, "out", *SMALL, train="empty.spacy", dev="dev.spacy", check=False)
    assert result.returncode != 0
    assert "cannot initialize from an empty training set" in result.stdout + result.stderr


def test_static_vectors_from_spacy_init_vectors(tmp_path):
    """A vectors table made by `spacy init vectors`, loaded by [initialize] vectors."""
    words = write_vectors(tmp_path)
    write_corpus(tmp_path / "train.spacy")
    vectors = [
        "--paths.vectors",
        str(tmp_path / "vectors"),
        "--components.lstm_ner.model.embed.include_static_vectors",
        "true",
        "--components.lstm_ner.model.embed.vectors_width",
        "8",
    ]
    spacy_train(tmp_path, "out", *SMALL, *vectors)
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.vocab.vectors.shape == (len(words), 5)
    model = nlp.get_pipe("lstm_ner").model
    docs = [nlp.make_doc(text) for text, _ in TRAIN_DATA]
    with_vectors = numpy.concatenate(model.predict(docs))
    nlp.vocab.vectors.data[:] = 0.0
    assert not numpy.allclose(with_vectors, numpy.concatenate(model.predict(docs)))


@pytest.fixture(scope="module")
def without_a_table(tmp_path_factory):
    """`spacy train` with include_static_vectors but no [initialize] vectors table."""
    tmp = tmp_path_factory.mktemp("no_table")
    write_corpus(tmp / "train.spacy")
    option = "--components.lstm_ner.model.embed.include_static_vectors"
    return tmp, spacy_train(tmp, "out", *SMALL, option, "true", check=False)


def test_static_vectors_without_a_table_stop_at_initialize(without_a_table):
    tmp, result = without_a_table
    assert result.returncode != 0
    assert "Initializing pipeline" in result.stdout and "Training pipeline" not in result.stdout
    assert not (tmp / "out" / "model-last").exists()


def test_static_vectors_without_a_table_fail_clearly(without_a_table):
    """The error says which setting needs a table and how to give one."""
    _, result = without_a_table
    _, _, message = result.stderr.partition("ValueError: ")
    assert "include_static_vectors" in message
    assert "[initialize] vectors" in message or "--paths.vectors" in message


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.cfg")))
def test_every_shipped_config_trains(tmp_path, config):
    """Each config in configs/ trains through the CLI as shipped, but for its
    size, its steps and, where it names one, its vectors table."""
    write_corpus(tmp_path / "train.spacy")
    write_vectors(tmp_path)
    config_path = ROOT / "configs" / config
    overrides = ["--training.max_steps", "4", "--training.eval_frequency", "2"]
    if spacy.util.load_config(config_path)["paths"]["vectors"] is not None:
        overrides += ["--paths.vectors", str(tmp_path / "vectors")]
    spacy_train(tmp_path, "out", *overrides, config=str(config_path))
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["lstm_ner"]
    assert set(nlp.get_pipe("lstm_ner").labels) == {"PER", "GEO", "TIM", "ORG"}


def test_training_draws_new_documents_each_epoch(tmp_path):
    write_corpus(tmp_path / "train.spacy")
    streamed = ["--corpora.train.random_lengths", "true", "--corpora.train.shuffle", "true"]
    result = spacy_train(tmp_path, "out", *SMALL, *streamed, "--training.max_epochs", "-1")
    rows = [line.split() for line in result.stdout.splitlines() if line[:3].strip().isdigit()]
    epoch, step = int(rows[-1][0]), int(rows[-1][1])
    assert step == 30 and epoch >= 5
    assert spacy.load(tmp_path / "out" / "model-last").pipe_names == ["lstm_ner"]
