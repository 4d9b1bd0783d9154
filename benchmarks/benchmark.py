"""Benchmark spaCy's `tok2vec` + `ner` against `lstm_ner` on the GMB split.

    python benchmarks/benchmark.py [--suite benchmark|ablation] [--quick] [--max-steps N]
        [--max-seconds S] [--output metrics]

Trains each system of the suite with `spacy train` in its own process, under the
same budget, then measures test accuracy, inference speed, peak memory and model
size, and writes `<suite>.json`, `<suite>.md` and `<suite>_dev_curve.png`.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from itertools import islice
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

import spacy
import torch
from spacy.tokens import DocBin
from spacy.training import Example
from thinc.api import Config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
class System(NamedTuple):
    description: str
    config: Optional[str]  # configs/<config>.cfg; None: spaCy's generated ner config
    overrides: Dict[str, Any] = {}


SPACY_NER = System("spaCy tok2vec + ner (`init config -p ner -o efficiency`, CPU)", None)
BILSTM = System("lstm_ner, `configs/bilstm.cfg` (default)", "bilstm")
CRF = {"components.lstm_ner.model.@architectures": "spacy_lstm_ner.BiLSTMCRFTagger.v1"}
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
            {"paths.vectors": "corpus/vectors", "components.lstm_ner.model.embed.include_static_vectors": True},
        ),
        "lstm_ner_bilstm_crf": System(
            "lstm_ner, `configs/bilstm_crf.cfg` (CRF + characters + static vectors)", "bilstm_crf"
        ),
    },
}
SYSTEMS = SUITES["benchmark"]
QUICK_DOCS = {"train": 500, "dev": 200, "test": 200}
TOKENIZATION = "spaCy's tokenization of the raw text (no gold tokens)"
LOGGER = "spacy_lstm_ner_benchmark.JSONLLogger.v1"
TIME_BUDGET = "spacy_lstm_ner_benchmark.time_budget.v1"


# Training, in a child process per system ------------------------------------

class BudgetSpent(Exception):
    """Raised before an update once the time budget is spent: a clean stop."""


_CLOCK: Dict[str, Optional[float]] = {"start": None, "last_eval": None}


@spacy.registry.loggers(LOGGER)
def jsonl_logger(path: str):
    """Log each dev evaluation as a JSON line: step, words, wall-clock seconds
    since the training loop started, ents_f."""

    def setup(nlp, stdout, stderr):
        _CLOCK.update(start=time.perf_counter(), last_eval=None)
        log = open(path, "w", encoding="utf8")

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            if info is None:
                return
            _CLOCK["last_eval"] = time.perf_counter() - _CLOCK["start"]
            record = {
                "step": info["step"],
                "epoch": info["epoch"],
                "seconds": round(_CLOCK["last_eval"], 3),
                "words": info["words"],
                "ents_f": float(info["other_scores"]["ents_f"]),
                "losses": {name: float(loss) for name, loss in info["losses"].items()},
            }
            log.write(json.dumps(record) + "\n")
            log.flush()

        return log_step, log.close

    return setup


@spacy.registry.callbacks(TIME_BUDGET)
def time_budget(max_seconds: float):
    """A `before_update` callback that stops training at the first update after
    the dev evaluation that found `max_seconds` spent (0: no limit)."""

    def before_update(nlp, info: Dict[str, int]) -> None:
        spent = _CLOCK["last_eval"]
        if max_seconds and spent is not None and spent >= max_seconds:
            raise BudgetSpent(f"{spent:.1f} s >= {max_seconds} s at step {info['step']}")

    return before_update


def train_child(config_path: str, output_dir: str) -> None:
    """Train one system in this process; write `train_result.json` with how
    it stopped and the process's peak RSS."""
    from spacy.cli.train import train

    try:
        train(config_path, output_dir, use_gpu=-1)
        stopped_by = "steps"
    except BudgetSpent:
        stopped_by = "time"
    result = {"stopped_by": stopped_by, "peak_rss_mb": peak_rss_mb()}
    (Path(output_dir) / "train_result.json").write_text(json.dumps(result))


def infer_child(model_path: str, test_path: str, batch_size: str) -> None:
    """Load a model, pipe the test texts once; print the peak RSS as JSON."""
    nlp = spacy.load(model_path)
    texts = [doc.text for doc in read_docs(Path(test_path), nlp)]
    for _ in nlp.pipe(texts, batch_size=int(batch_size)):
        pass
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB. Linux's `VmHWM`, not
    `ru_maxrss`: a child started by `subprocess` inherits its parent's
    `ru_maxrss` as a floor, `VmHWM` starts afresh at `exec`."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(function: str, *args: str, threads: int, log: Optional[Path] = None) -> str:
    """Run `benchmark.<function>(*args)` in a fresh Python process with
    `threads` OpenMP (torch) threads, 0 for the default; its stdout."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); import benchmark; getattr(benchmark, sys.argv[2])(*sys.argv[3:])"
    command = [sys.executable, "-c", code, str(HERE), function, *map(str, args)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else None
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if log is not None:
        log.write_text(result.stdout + result.stderr, encoding="utf8")
    if result.returncode != 0:
        raise RuntimeError(f"{function}{args} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout


# Preparing configs and data -------------------------------------------------

def base_config(system: System, workdir: Path) -> Path:
    """The config a user would start from: spaCy's generated one, or ours."""
    if system.config is None:
        path = workdir / "spacy_ner.init.cfg"
        command = [sys.executable, "-m", "spacy", "init", "config", str(path), "--lang", "en",
                   "--pipeline", "ner", "--optimize", "efficiency", "--force"]
        subprocess.run(command, check=True, capture_output=True)
        return path
    return ROOT / "configs" / f"{system.config}.cfg"


def write_config(
    source: Path, dest: Path, corpus: Dict[str, Path], args, curve: Path, overrides: Dict[str, Any] = {}
) -> None:
    """`source` with the shared budget and the benchmark's logger; every other
    setting (batcher, optimizer, dropout, model) stays the system's own, but
    for the ablation's `overrides` (dotted config paths)."""
    config = Config().from_disk(source, interpolate=False)
    for key, value in overrides.items():
        *sections, name = key.split(".")
        section = config
        for part in sections:
            section = section[part]
        section[name] = value
    config["paths"].update(train=str(corpus["train"]), dev=str(corpus["dev"]))
    if config["paths"].get("vectors"):
        config["paths"]["vectors"] = str(args.vectors)
    config["training"].update(
        max_steps=args.max_steps,
        max_epochs=0,
        patience=0,
        eval_frequency=args.eval_frequency,
        before_update={"@callbacks": TIME_BUDGET, "max_seconds": args.max_seconds},
        logger={
            "@loggers": "spacy.ChainLogger.v1",
            "logger1": {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False},
            "logger2": {"@loggers": LOGGER, "path": str(curve)},
        },
    )
    config.to_disk(dest, interpolate=False)


def read_docs(path: Path, nlp) -> list:
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def prepare_corpus(corpus: Path, workdir: Path, quick: bool) -> Dict[str, Path]:
    """The split's DocBins; in quick mode, the first docs of each, copied."""
    paths = {split: corpus / f"{split}.spacy" for split in QUICK_DOCS}
    if not quick:
        return paths
    nlp = spacy.blank("en")
    for split, n_docs in QUICK_DOCS.items():
        docs = list(islice(DocBin().from_disk(paths[split]).get_docs(nlp.vocab), n_docs))
        paths[split] = workdir / "corpus" / f"{split}.spacy"
        paths[split].parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=docs).to_disk(paths[split])
    return paths


# Measuring ------------------------------------------------------------------

def train_system(name: str, system: System, corpus: Dict[str, Path], workdir: Path, args) -> Dict[str, Any]:
    """Train one system in a child process; its budget use, speed and peak RSS."""
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    config, curve = out / "config.cfg", out / "dev_curve.jsonl"
    write_config(base_config(system, workdir), config, corpus, args, curve, system.overrides)
    run_child("train_child", config, out / "training", threads=args.torch_threads, log=out / "train.log")
    result = json.loads((out / "training" / "train_result.json").read_text())
    evals = [json.loads(line) for line in curve.read_text().splitlines()]
    last = evals[-1]
    return {
        "train_seconds": last["seconds"],
        "train_steps": last["step"],
        "train_words": last["words"],
        "train_words_per_second": last["words"] / last["seconds"],
        "stopped_by": result["stopped_by"],
        "train_peak_rss_mb": result["peak_rss_mb"],
        "dev_curve": [{key: e[key] for key in ("step", "seconds", "ents_f")} for e in evals],
        "model": str(out / "training" / "model-best"),
    }


def evaluate(nlp, gold_docs: list, batch_size: int) -> Dict[str, Any]:
    """Test scores of `nlp` run on the raw texts, all from our scorer."""
    from spacy_lstm_ner.scorer import score_lstm_ner

    predicted = nlp.pipe([doc.text for doc in gold_docs], batch_size=batch_size)
    scores = score_lstm_ner(Example(pred, gold) for pred, gold in zip(predicted, gold_docs))
    keys = ("ents_p", "ents_r", "ents_f", "ents_per_type", "token_acc", "entity_token_acc")
    return {key: scores[key] for key in keys}


def inference_speed(nlps: Dict[str, Any], texts: List[str], batch_size: int, repeats: int) -> Dict[str, Any]:
    """Words (tokens produced) per second through `nlp.pipe`, systems
    alternated run by run; the median and every run."""
    for nlp in nlps.values():  # warm-up, untimed
        list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
    runs: Dict[str, List[float]] = {name: [] for name in nlps}
    for _ in range(repeats):
        for name, nlp in nlps.items():
            start = time.perf_counter()
            docs = list(nlp.pipe(texts, batch_size=batch_size))
            seconds = time.perf_counter() - start
            runs[name].append(sum(len(doc) for doc in docs) / seconds)
    return {
        name: {"infer_words_per_second": statistics.median(r), "infer_runs_words_per_second": r}
        for name, r in runs.items()
    }


def measure_models(systems: Dict[str, Dict[str, Any]], test_path: Path, args) -> int:
    """Add each trained model's test scores, inference speed, inference peak RSS
    (in a process of its own) and size to `systems`; the number of test tokens."""
    nlps = {name: spacy.load(r["model"]) for name, r in systems.items()}
    gold = read_docs(test_path, spacy.blank("en"))
    texts = [doc.text for doc in gold]
    speed = inference_speed(nlps, texts, args.batch_size, args.repeats)
    for name, nlp in nlps.items():
        model = systems[name]["model"]
        rss = run_child("infer_child", model, test_path, args.batch_size, threads=args.torch_threads)
        systems[name].update(
            evaluate(nlp, gold, args.batch_size),
            **speed[name],
            infer_peak_rss_mb=json.loads(rss)["peak_rss_mb"],
            model_size_mb=size_mb(Path(model)),
        )
    return sum(len(spacy.blank("en").make_doc(text)) for text in texts)


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def machine_info() -> Dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average_at_start": os.getloadavg(),
        "versions": {
            pkg: version(pkg) for pkg in ("spacy", "thinc", "torch", "numpy", "spacy-lstm-ner")
        }
        | {"python": platform.python_version()},
    }


# Reporting ------------------------------------------------------------------

def markdown(report: Dict[str, Any]) -> str:
    """The results table, with the settings it was measured under."""
    s, systems = report["settings"], report["systems"]
    budget = f"{s['max_seconds']} s" if s["max_seconds"] else "none"
    lines = [
        f"GMB test split: {s['n_docs']['test']} sentences, {s['n_test_words']} tokens, {TOKENIZATION}. "
        f"Training budget, the same for every system: stop at the first dev evaluation after "
        f"{budget} of training loop, or at step {s['max_steps']}; dev evaluation every "
        f"{s['eval_frequency']} steps, its time counted in the budget and in train words/s. Inference: `nlp.pipe` over "
        f"the raw test texts, batch size {s['batch_size']}, median of {s['repeats']} runs, systems "
        f"alternated. Machine: {s['machine']['cpus_usable']} CPUs; torch threads per process: "
        f"{s['machine']['torch_threads']}.{' Quick mode: a small slice, not a result.' if s['quick'] else ''}",
        "",
        "| system | ents_p | ents_r | ents_f | token_acc | entity_token_acc | train s (steps, stop) "
        "| train words/s | infer words/s | train RSS MiB | infer RSS MiB | size MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in systems.items():
        lines.append(
            f"| {r['description']} | {r['ents_p']:.3f} | {r['ents_r']:.3f} | {r['ents_f']:.3f} "
            f"| {r['token_acc']:.3f} | {r['entity_token_acc']:.3f} "
            f"| {r['train_seconds']:.0f} ({r['train_steps']}, {r['stopped_by']}) "
            f"| {r['train_words_per_second']:,.0f} | {r['infer_words_per_second']:,.0f} "
            f"| {r['train_peak_rss_mb']:.0f} | {r['infer_peak_rss_mb']:.0f} | {r['model_size_mb']:.1f} |"
        )
    labels = sorted({label for r in systems.values() for label in r["ents_per_type"]})
    lines += ["", "Test ents_f per type:", "", "| type | " + " | ".join(systems) + " |",
              "| --- |" + " ---: |" * len(systems)]
    for label in labels:
        cells = [r["ents_per_type"].get(label, {}).get("f", 0.0) for r in systems.values()]
        lines.append(f"| {label} | " + " | ".join(f"{f:.3f}" for f in cells) + " |")
    return "\n".join(lines) + "\n"


def plot_dev_curves(systems: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, r in systems.items():
        curve = r["dev_curve"]
        ax.plot([e["seconds"] for e in curve], [e["ents_f"] for e in curve], marker=".", label=name)
    ax.set_xlabel("training wall-clock (s)")
    ax.set_ylabel("dev ents_f")
    ax.set_title("GMB dev ents_f during training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# Main -----------------------------------------------------------------------

def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke test: a small slice, a few steps")
    parser.add_argument("--max-steps", type=int, help="step budget (default 20000; quick: 30)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="wall-clock budget of each training loop, 0 for none (default 600)")
    parser.add_argument("--eval-frequency", type=int, help="dev evaluation every N steps (default 200; quick: 10)")
    parser.add_argument("--batch-size", type=int, default=256, help="nlp.pipe batch size (default 256)")
    parser.add_argument("--repeats", type=int, default=3, help="timed inference runs per system (default 3)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch (OpenMP) threads of every process, 0 for torch's default (default 1, "
                             "as spaCy's CPU ner uses one)")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="dir with {train,dev,test}.spacy")
    parser.add_argument("--vectors", type=Path, default=Path("corpus/vectors"),
                        help="the static vectors table of the systems that use one (spacy project run vectors)")
    parser.add_argument("--output", type=Path, default=Path("metrics"), help="where the report goes")
    parser.add_argument("--suite", choices=sorted(SUITES), default="benchmark",
                        help="benchmark: spaCy's ner, bilstm.cfg, lstm.cfg; ablation: what the CRF, character "
                             "features and static vectors each add to bilstm.cfg (report named after the suite)")
    parser.add_argument("--workdir", type=Path, help="trained models and logs (default training/<suite>[-quick])")
    args = parser.parse_args(argv)
    if args.max_steps is None:
        args.max_steps = 30 if args.quick else 20000
    if args.eval_frequency is None:
        args.eval_frequency = 10 if args.quick else 200
    if args.workdir is None:
        args.workdir = Path("training") / (f"{args.suite}-quick" if args.quick else args.suite)
    if args.max_steps % args.eval_frequency:
        parser.error("--max-steps must be a multiple of --eval-frequency, so training ends on a dev evaluation")
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    return args


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    machine = machine_info()
    corpus = prepare_corpus(args.corpus, args.workdir, args.quick)
    systems = {}
    for name, system in SUITES[args.suite].items():
        print(f"Training {name} ...", flush=True)
        systems[name] = {"description": system.description, **train_system(name, system, corpus, args.workdir, args)}
    print("Evaluating and timing inference ...", flush=True)
    n_test_words = measure_models(systems, corpus["test"], args)
    settings = {
        "suite": args.suite,
        "quick": args.quick,
        "max_steps": args.max_steps,
        "max_seconds": args.max_seconds,
        "eval_frequency": args.eval_frequency,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "torch_threads": args.torch_threads or "torch default",
        "n_docs": {split: len(DocBin().from_disk(path)) for split, path in corpus.items()},
        "n_test_words": n_test_words,
        "tokenization": TOKENIZATION,
        "machine": {**machine, "load_average_at_end": os.getloadavg()},
    }
    report = {"settings": settings, "systems": systems}
    (args.output / f"{args.suite}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output / f"{args.suite}.md").write_text(markdown(report))
    plot_dev_curves(systems, args.output / f"{args.suite}_dev_curve.png")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
