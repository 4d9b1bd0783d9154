"""Helpers shared by the tests: the toy corpus, small model configs, training in
process, corpus and vectors writers, and runners for `python -m ...` subprocesses."""

import gzip
import itertools
import subprocess
import sys
from pathlib import Path

import numpy
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from spacy_lstm_ner.potentials import NEVER, ChainScores, Potentials

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "configs" / "bilstm.cfg"
GMB_CSV = ROOT / "assets" / "gmb" / "ner_dataset.csv.gz"

TRAIN_DATA = [
    ("Sharon flew to Miami last Friday.", [(0, 6, "PER"), (15, 20, "GEO"), (21, 32, "TIM")]),
    ("Apple opened an office in Berlin.", [(0, 5, "ORG"), (26, 32, "GEO")]),
    (
        "The United Nations met in New York on Monday.",
        [(4, 18, "ORG"), (26, 34, "GEO"), (38, 44, "TIM")],
    ),
    ("Angela Merkel visited Paris.", [(0, 13, "PER"), (22, 27, "GEO")]),
    ("Nothing happened here.", []),
]
GOLD = [[(text[start:end], label) for start, end, label in ents] for text, ents in TRAIN_DATA]


def ents_of(doc):
    """The (text, label) of each entity of `doc`, the form of GOLD."""
    return [(ent.text, ent.label_) for ent in doc.ents]


def ent_offsets(doc):
    """The (start_char, end_char, label) of each entity of `doc`."""
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


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


# A small embedding with character features, for the tests that need one.
CHARS_EMBED = {
    "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
    "attrs": ["NORM", "SHAPE"],
    "widths": [16, 8],
    "rows": [100, 50],
    "chars": 4,
    "char_width": 4,
}

# A small embedding with the character CNN and word dropout.
CNN_EMBED = {
    "@architectures": "spacy_lstm_ner.FeatureEmbed.v2",
    "attrs": ["NORM", "SHAPE"],
    "widths": [16, 8],
    "rows": [100, 50],
    "char_cnn_width": 12,
    "char_width": 6,
    "max_bytes": 8,
    "word_dropout_rate": 0.2,
}


def crf_config(**overrides):
    return small_model_config(
        **{"@architectures": "spacy_lstm_ner.BiLSTMCRFTagger.v2", **overrides}
    )


def window_embed(window_size, embed):
    """A spacy_lstm_ner.WindowEmbed.v1 block over the embed block `embed`."""
    return {
        "@architectures": "spacy_lstm_ner.WindowEmbed.v1",
        "window_size": window_size,
        "embed": embed,
    }


def overfit_pipeline(model_config):
    """A blank English pipeline whose lstm_ner is overfit on TRAIN_DATA."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": model_config})
    train_pipeline(nlp, make_examples(nlp))
    return nlp


def write_corpus(path, data=TRAIN_DATA):
    """`data` as a DocBin of annotated docs at `path`."""
    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in make_examples(nlp, data)]).to_disk(path)


def init_vectors(tmp, lines):
    """A vectors table made by `spacy init vectors` from word2vec text `lines`, in tmp/vectors."""
    (tmp / "vectors.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    run_python("-m", "spacy", "init", "vectors", "en", tmp / "vectors.txt", tmp / "vectors")
    return tmp / "vectors"


def write_vectors(tmp, width=5):
    """A small vectors table over TRAIN_DATA's words in tmp/vectors; return the words."""
    words = sorted(
        {token.text for eg in make_examples(spacy.blank("en")) for token in eg.reference}
    )
    rng = numpy.random.default_rng(0)
    lines = [f"{len(words)} {width}"] + [
        " ".join([w, *map(str, rng.normal(size=width).round(4))]) for w in words
    ]
    init_vectors(tmp, lines)
    return words


def write_gmb_slice(dest: Path, n_sentences: int) -> Path:
    """The header and first `n_sentences` sentences of the shipped GMB CSV, bytes unchanged."""
    with gzip.open(GMB_CSV, "rb") as lines, dest.open("wb") as out:
        for line in lines:
            if line.startswith(f"Sentence: {n_sentences + 1},".encode()):
                break
            out.write(line)
    return dest


def convert_gmb_slice(tmp: Path, n_sentences: int, splits: str) -> Path:
    """The first `n_sentences` sentences of the shipped corpus, converted to DocBins in tmp/corpus."""
    csv = write_gmb_slice(tmp / "slice.csv", n_sentences)
    run_convert(csv, tmp / "corpus", "--splits", splits)
    return tmp / "corpus"


def run_python(*args, check=True, cwd=None, timeout=600):
    """`python *args` in a subprocess; with `check`, assert that it exits 0,
    showing its output if not."""
    result = subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def spacy_train(
    tmp, output, *overrides, train="train.spacy", dev="train.spacy", check=True, config=CONFIG
):
    """`spacy train config` on tmp/train and tmp/dev into tmp/output."""
    paths = ["--paths.train", tmp / train, "--paths.dev", tmp / dev]
    return run_python(
        "-m", "spacy", "train", config, "--output", tmp / output, *paths, *overrides, check=check
    )


def project_run(project_dir, command, *overrides):
    """`spacy project run command project_dir *overrides`; its stdout."""
    return run_python("-m", "spacy", "project", "run", command, project_dir, *overrides).stdout


def run_convert(*args, check=True):
    """`python scripts/convert_gmb.py *args`."""
    return run_python(ROOT / "scripts" / "convert_gmb.py", *args, check=check, timeout=120)


def run_case_keys(path):
    """`python scripts/case_keys.py path`, whatever its exit status."""
    return run_python(ROOT / "scripts" / "case_keys.py", path, check=False)


# Brute force over every tag path, the reference of the lattice and decoding tests.


def random_chain(rng, n_tags, forbid=0.3):
    valid = rng.random((n_tags, n_tags)) > forbid
    valid_start, valid_end = numpy.ones(n_tags, bool), numpy.ones(n_tags, bool)
    valid_start[0] = valid_end[-1] = False
    learned = (rng.normal(size=n_tags), rng.normal(size=(n_tags, n_tags)), rng.normal(size=n_tags))
    masks = (valid_start, valid, valid_end)
    return ChainScores(*(numpy.where(mask, values, NEVER) for values, mask in zip(learned, masks)))


def potentials_of(docs, chain):
    """The Potentials of per-doc (n_tokens, n_tags) emissions under `chain`."""
    lengths = numpy.array([len(doc) for doc in docs], dtype="int64")
    emissions = numpy.concatenate([numpy.asarray(doc) for doc in docs])
    return Potentials(
        emissions, lengths, ChainScores(*(numpy.asarray(v, "float64") for v in chain))
    )


def is_valid(tags, scheme):
    """Whether a sequence of tag strings is valid in `scheme`: an independent check, straight from the scheme's definition."""
    if scheme == "IOB":
        for prev, tag in zip(["O"] + tags, tags):
            if tag.startswith("I-") and prev[2:] != tag[2:]:
                return False
        return True
    open_label = None
    for tag in tags:
        prefix, label = (tag, "") if tag == "O" else tag.split("-", 1)
        if open_label is None and prefix in ("I", "L"):
            return False
        if open_label is not None and (prefix not in ("I", "L") or label != open_label):
            return False
        open_label = label if prefix in ("B", "I") else None
    return open_label is None


def scored(doc, key="lstm_ner"):
    """{(start, end, label): probability} of the scored span group `key` of `doc`."""
    group = doc.spans[key]
    return {
        (span.start, span.end, span.label_): float(score)
        for span, score in zip(group, group.attrs["scores"])
    }


def path_score(emissions, chain, path):
    score = (
        chain.start[path[0]] + chain.end[path[-1]] + emissions[numpy.arange(len(path)), path].sum()
    )
    return score + sum(chain.transitions[a, b] for a, b in zip(path, path[1:]))


def all_paths(n_tokens, n_tags):
    return [numpy.array(p) for p in itertools.product(range(n_tags), repeat=n_tokens)]


def brute_force(emissions, chain):
    """log Z and tag marginals by enumerating every path; forbidden ones weigh 0."""
    paths = all_paths(len(emissions), emissions.shape[1])
    scores = numpy.array([path_score(emissions, chain, p) for p in paths])
    log_z = numpy.logaddexp.reduce(scores)
    weights = numpy.exp(scores - log_z)
    marginals = numpy.zeros(emissions.shape)
    for path, weight in zip(paths, weights):
        marginals[numpy.arange(len(path)), path] += weight
    return log_z, marginals, paths, scores
