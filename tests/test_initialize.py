"""initialize reads nothing but what it is given; the dev-label check is an
opt-in after_init callback that the shipped configs name."""

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.util import load_config, load_model_from_config
from util import ROOT, TRAIN_DATA, ents_of, init_vectors, make_examples, small_model_config

from spacy_lstm_ner.callbacks import make_check_dev_labels

CONFIGS = sorted(path.name for path in (ROOT / "configs").glob("*.cfg"))
DEV_ONLY = [("Paris hosted the Olympics.", [(0, 5, "GEO"), (17, 25, "EVE")])]


def write_docbin(nlp, path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=[eg.reference for eg in make_examples(nlp, data)]).to_disk(path)
    return path


def shipped_pipeline(name, vectors_dir):
    """The pipeline of configs/<name>, with every path pointing at a tiny vectors table."""
    config = load_config(ROOT / "configs" / name, overrides={"paths.vectors": str(vectors_dir)})
    return load_model_from_config(config, auto_fill=True, validate=True)


@pytest.fixture(scope="module")
def vectors_dir(tmp_path_factory):
    words = sorted({word.strip(".,") for text, _ in TRAIN_DATA for word in text.split()})
    return init_vectors(
        tmp_path_factory.mktemp("vectors"),
        [f"{len(words)} 3"] + [f"{w} 0.1 0.2 0.3" for w in words],
    )


@pytest.mark.parametrize("name", CONFIGS)
def test_every_shipped_config_initializes_in_plain_python_in_an_empty_directory(
    name, vectors_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    nlp = shipped_pipeline(name, vectors_dir)
    nlp.initialize(lambda: make_examples(nlp))
    assert nlp.get_pipe("lstm_ner").labels == ("GEO", "ORG", "PER", "TIM")
    assert list(tmp_path.iterdir()) == []
    assert all(label in {"GEO", "ORG", "PER", "TIM"} for _, label in ents_of(nlp(TRAIN_DATA[0][0])))


def test_component_initialize_ignores_the_dev_corpus_of_its_config(
    vectors_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    nlp = shipped_pipeline("bilstm.cfg", vectors_dir)
    write_docbin(nlp, tmp_path / "corpus" / "dev.spacy", DEV_ONLY)
    ner = nlp.get_pipe("lstm_ner")
    ner.initialize(lambda: make_examples(nlp), nlp=nlp)
    assert "EVE" not in ner.labels


def test_shipped_config_names_the_dev_label_check(vectors_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nlp = shipped_pipeline("bilstm.cfg", vectors_dir)
    write_docbin(nlp, tmp_path / "corpus" / "dev.spacy", DEV_ONLY)
    with pytest.raises(
        ValueError,
        match=r"corpus/dev.spacy has entity labels that lstm_ner's training data lacks.*'EVE' in 'Paris hosted",
    ):
        nlp.initialize(lambda: make_examples(nlp))


def trained_blank(name="lstm_ner"):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", name=name, config={"model": small_model_config()})
    nlp.initialize(lambda: make_examples(nlp))
    return nlp


def test_dev_label_check_names_component_label_and_file(tmp_path):
    nlp = trained_blank("my_ner")
    dev = write_docbin(nlp, tmp_path / "dev.spacy", DEV_ONLY)
    with pytest.raises(
        ValueError,
        match=rf"{dev} has entity labels that my_ner's.*'EVE'.*\[initialize.components.my_ner\] labels",
    ):
        make_check_dev_labels(str(dev))(nlp)


def test_dev_label_check_passes_known_labels_and_skips_without_a_corpus(tmp_path):
    nlp = trained_blank()
    dev = write_docbin(nlp, tmp_path / "dev.spacy", TRAIN_DATA[:2])
    assert make_check_dev_labels(str(dev))(nlp) is nlp
    assert make_check_dev_labels(None)(nlp) is nlp
    assert make_check_dev_labels(str(tmp_path / "absent.spacy"))(nlp) is nlp
