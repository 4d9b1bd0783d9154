"""Benchmark spaCy's `tok2vec` + `ner` against `lstm_ner` on the GMB split.

    python -m benchmarks.benchmark [--suite benchmark|ablation|widths] [--quick] [--max-steps N]
        [--max-seconds S] [--output metrics] [--reuse-training]

Trains each system of the suite with `spacy train` in its own process, under the
same budget, then measures test accuracy, inference speed, peak memory and model
size, and writes `<suite>.json`, `<suite>.md` and `<suite>_dev_curve.png`: the systems
and their configs in `suites.py`, training in `train.py` (with the spaCy plugins of
`plugins.py`), measuring in `measure.py`, the report in `report.py`.
"""

import argparse
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
from spacy.tokens import DocBin

from benchmarks.measure import TOKENIZATION, machine_info, measure_models
from benchmarks.report import markdown, write_report
from benchmarks.suites import SUITES
from benchmarks.train import prepare_corpus, train_system


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: a small slice, a few steps"
    )
    parser.add_argument("--max-steps", type=int, help="step budget (default 20000; quick: 30)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="wall-clock budget of each training loop, 0 for none (default 600)",
    )
    parser.add_argument(
        "--eval-frequency", type=int, help="dev evaluation every N steps (default 200; quick: 10)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=256, help="nlp.pipe batch size (default 256)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed inference runs per system (default 5)"
    )
    parser.add_argument(
        "--infer-words",
        type=int,
        help="words piped in the inference memory process (default 1000000; quick: 20000)",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch (OpenMP) threads of every process, 0 for torch's default (default 1, "
        "as spaCy's CPU ner uses one)",
    )
    parser.add_argument(
        "--corpus", type=Path, default=Path("corpus"), help="dir with {train,dev,test}.spacy"
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=Path("corpus/vectors"),
        help="the static vectors table of the systems that use one (spacy project run vectors)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("metrics"), help="where the report goes"
    )
    parser.add_argument(
        "--suite",
        choices=sorted(SUITES),
        default="benchmark",
        help="benchmark: spaCy's ner, bilstm.cfg, lstm.cfg; ablation: what the CRF, character "
        "features and static vectors each add to bilstm.cfg; widths: bilstm.cfg's LSTM 128, 96 "
        "and 64 wide (report named after the suite)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="trained models and logs (default training/<suite>[-quick])"
    )
    parser.add_argument(
        "--reuse-training",
        action="store_true",
        help="measure the systems a previous run trained in --workdir again, training only those "
        "it lacks (their training figures are that run's)",
    )
    args = parser.parse_args(argv)
    if args.max_steps is None:
        args.max_steps = 30 if args.quick else 20000
    if args.infer_words is None:
        args.infer_words = 20000 if args.quick else 1000000
    if args.eval_frequency is None:
        args.eval_frequency = 10 if args.quick else 200
    if args.workdir is None:
        args.workdir = Path("training") / (f"{args.suite}-quick" if args.quick else args.suite)
    if args.max_steps % args.eval_frequency:
        parser.error(
            "--max-steps must be a multiple of --eval-frequency, so training ends on a dev evaluation"
        )
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
        systems[name] = {
            "description": system.description,
            **train_system(name, system, corpus, args.workdir, args),
        }
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
        "reused_training": args.reuse_training,
        "infer_words": args.infer_words,
        "torch_threads": args.torch_threads or "torch default",
        "n_docs": {split: len(DocBin().from_disk(path)) for split, path in corpus.items()},
        "n_test_words": n_test_words,
        "tokenization": TOKENIZATION,
        "machine": {**machine, "load_average_at_end": os.getloadavg()},
    }
    report = {"settings": settings, "systems": systems}
    write_report(report, args.output)
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
