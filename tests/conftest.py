import subprocess
import sys

import pytest
import spacy
from spacy.training import Example

TRAIN_DATA = [
    ("Sharon flew to Miami last Friday.", [(0, 6, "PER"), (15, 20, "GEO"), (21, 32, "TIM")]),
    ("Apple opened an office in Berlin.", [(0, 5, "ORG"), (26, 32, "GEO")]),
    ("The United Nations met in New York on Monday.", [(4, 18, "ORG"), (26, 34, "GEO"), (38, 44, "TIM")]),
    ("Angela Merkel visited Paris.", [(0, 13, "PER"), (22, 27, "GEO")]),
    ("Nothing happened here.", []),
]


def make_examples(nlp, data=TRAIN_DATA):
    return [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in data]


def train_pipeline(nlp, examples, n_iter=100):
    """Initialize and update `nlp` on `examples`; return the losses per step."""
    optimizer = nlp.initialize(lambda: examples)
    history = []
    for _ in range(n_iter):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        history.append(losses["lstm_ner"])
    return history


def small_model_config(**overrides):
    config = {
        "@architectures": "spacy_lstm_ner.BiLSTMTagger.v1",
        "hidden_width": 32,
        "depth": 1,
        "bidirectional": True,
        "dropout": 0.0,
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 32,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [1000, 500, 500, 50],
            "include_static_vectors": False,
        },
    }
    config.update(overrides)
    return config


def overfit_pipeline(model_config):
    """A blank English pipeline whose lstm_ner is overfit on TRAIN_DATA."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": model_config})
    train_pipeline(nlp, make_examples(nlp))
    return nlp


@pytest.fixture(scope="session")
def trained_nlp():
    """A small pipeline overfit on TRAIN_DATA, shared by read-only tests."""
    return overfit_pipeline(small_model_config())


def init_vectors(tmp, lines):
    """A vectors table made by `spacy init vectors` from word2vec text `lines`, in tmp/vectors."""
    (tmp / "vectors.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    command = [sys.executable, "-m", "spacy", "init", "vectors", "en", str(tmp / "vectors.txt"), str(tmp / "vectors")]
    subprocess.run(command, check=True, capture_output=True)
    return tmp / "vectors"
