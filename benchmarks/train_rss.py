"""Training memory over the steps: one config trained by `spacy train` as the benchmark
trains it (its logger, RSS every 100 steps), for a number of steps, no time budget.

    python -m benchmarks.train_rss CONFIG [--max-steps 5000] [--workdir training/train_rss]

Prints the peak RSS, the growth from step 1,000 to the last step (up to 5,000) and the
RSS every 500 steps; the whole curve is in WORKDIR/summary.json.
"""

import argparse
import json
from pathlib import Path

from benchmarks import benchmark, suites, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--max-steps", default="5000")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--workdir", type=Path, default=Path("training/train_rss"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    args = parser.parse_args()
    budget = benchmark.parse_args(
        ["--max-steps", args.max_steps, "--eval-frequency", "200", "--max-seconds", "0"]
    )
    corpus = {split: args.corpus / f"{split}.spacy" for split in ("train", "dev")}
    out = args.workdir
    out.mkdir(parents=True, exist_ok=True)
    config, curve, summary = out / "config.cfg", out / "dev_curve.jsonl", out / "summary.json"
    suites.write_config(args.config, config, corpus, budget, curve, summary)
    train.spacy_train(config, out / "training", threads=args.threads, log=out / "train.log")
    result = json.loads(summary.read_text())
    growth = train.rss_growth(result["rss_curve"])
    print(
        f"{args.config}: peak RSS {result['peak_rss_mb']:,.0f} MiB, growth from step 1,000: "
        f"{'n/a' if growth is None else f'{growth:+.1%}'}"
    )
    print(
        " ".join(
            f"{p['step']}:{p['rss_mb']:.0f}" for p in result["rss_curve"] if p["step"] % 500 == 0
        )
    )


if __name__ == "__main__":
    main()
