"""Training: each system trained by `python -m spacy train` in a process of its own,
under the shared budget; its training figures."""

import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import spacy
from spacy.tokens import DocBin
from spacy.util import SimpleFrozenDict

from benchmarks.suites import ROOT, System, base_config, write_config

PLUGINS = ROOT / "benchmarks" / "plugins.py"
QUICK_DOCS = {"train": 500, "dev": 200, "test": 200}


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


def train_system(
    name: str,
    system: System,
    corpus: Dict[str, Path],
    workdir: Path,
    args,
    overrides: Mapping[str, Any] = SimpleFrozenDict(),
) -> Dict[str, Any]:
    """Train one system in a process of its own, with the run's `overrides` of its config
    (a seed, say); its budget use, speed and peak RSS."""
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    config, curve, summary = (
        out / "config.cfg",
        out / "dev_curve.jsonl",
        out / "training" / "train_result.json",
    )
    if not (getattr(args, "reuse_training", False) and summary.exists() and curve.exists()):
        write_config(base_config(system, workdir), config, corpus, args, curve, summary, overrides)
        spacy_train(config, out / "training", threads=args.torch_threads, log=out / "train.log")
    result = json.loads(summary.read_text())
    evals = [json.loads(line) for line in curve.read_text().splitlines()]
    last = evals[-1]
    return {
        "train_seconds": last["seconds"],
        "train_steps": last["step"],
        "train_words": last["words"],
        "train_words_per_second": last["words"] / last["seconds"],
        "stopped_by": result["stopped_by"],
        "train_peak_rss_mb": result["peak_rss_mb"],
        "train_rss_curve": result["rss_curve"],
        "train_rss_growth": rss_growth(result["rss_curve"]),
        "dev_curve": [{key: e[key] for key in ("step", "seconds", "ents_f")} for e in evals],
        "model": str(out / "training" / "model-best"),
    }


def rss_growth(
    curve: List[Dict[str, float]], start: int = 1000, end: int = 5000
) -> Optional[float]:
    """Relative growth of the training RSS from step `start` to the last sample
    at or before step `end`, after warm-up: 0.05 is 5%. None for shorter runs."""
    after = [point for point in curve if start <= point["step"] <= end]
    if len(after) < 2:
        return None
    return after[-1]["rss_mb"] / after[0]["rss_mb"] - 1.0


def spacy_train(
    config: Path,
    output: Path,
    threads: int,
    log: Optional[Path] = None,
    overrides: Sequence[str] = (),
) -> None:
    """`python -m spacy train config --output output *overrides` with the
    benchmark's plugins."""
    command = [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(config),
        "--output",
        str(output),
        "--code",
        str(PLUGINS),
        *overrides,
    ]
    run_process(command, threads=threads, log=log)


def module_command(module: str, *args: str) -> List[str]:
    """`python -m benchmarks.<module> *args`: a benchmark module in a process of its own."""
    return [sys.executable, "-m", f"benchmarks.{module}", *args]


def run_process(command: List[str], threads: int, log: Optional[Path] = None) -> str:
    """Run `command` with `threads` OpenMP (torch) threads, 0 for the default; its
    stdout. Its stdout and stderr also go to `log`. The process finds the `benchmarks`
    package of this checkout from any working directory."""
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if log is not None:
        log.write_text(result.stdout + result.stderr, encoding="utf8")
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    return result.stdout
