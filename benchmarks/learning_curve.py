"""Few labels: entity F1 of each system trained on nested random subsets of the
training set, on documents and sentences, all mentions and unseen ones.

    python -m benchmarks.learning_curve --corpus corpus/conll --dev valid --vectors corpus/vectors
        --gold-preproc --name learning_curve_conll [--fractions 0.01,0.02,0.05,0.1]
        [--systems spacy_ner_accuracy,lstm_ner_bilstm_crf] [--subset-seed 0] [--seed 0]
        [--output metrics]

The subsets are nested: the training set's sentences cut into runs of
`--doc-sents` consecutive ones, the runs shuffled with `--subset-seed`, and each
subset the shortest prefix of that order holding its fraction of the sentences,
in file order, so every sentence keeps its neighbours. Each lstm_ner system
starts from every label of the full training set. Each point trains every
system with `benchmarks.accuracy` under a budget that grows with the subset:
max(`--min-seconds`, `--max-seconds` * sqrt(fraction)), at most `--max-steps`.
Writes `<name>.json`, `<name>.md` and `<name>.png` to `--output`.
"""

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from benchmarks import accuracy
from benchmarks.report import score, settings_of, write_named

FRACTIONS = "0.01,0.02,0.05,0.1,0.25,0.5,1"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--dev", default="dev", help="dev DocBin's name in --corpus")
    parser.add_argument("--vectors", help="vectors of the systems that use them")
    parser.add_argument("--gold-preproc", action="store_true")
    parser.add_argument("--systems", default="spacy_ner_accuracy,lstm_ner_bilstm_crf")
    parser.add_argument("--fractions", default=FRACTIONS)
    parser.add_argument("--subset-seed", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--doc-sents", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=300)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--max-steps", type=int, default=6000)
    parser.add_argument("--eval-frequency", type=int, default=250)
    parser.add_argument("--name", default="learning_curve")
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    parser.add_argument("--workdir", type=Path, help="default training/<name>")
    parser.add_argument(
        "--merge",
        nargs="+",
        help="write one report of these reports' points instead of training (runs of "
        "different systems side by side)",
    )
    args = parser.parse_args(argv)
    args.workdir = args.workdir or Path("training") / args.name
    args.fractions = [float(value) for value in args.fractions.split(",")]
    if any(not 0 < value <= 1 for value in args.fractions):
        parser.error(f"--fractions must be in (0, 1], got {args.fractions}")
    return args


def nested_subsets(
    train: Path, fractions: List[float], seed: int, run_length: int, workdir: Path
) -> Dict[float, Dict[str, Any]]:
    """The training DocBin of each fraction, written under `workdir`, and its size."""
    sentences = [
        sent.as_doc()
        for doc in DocBin().from_disk(train).get_docs(Vocab())
        for sent in (doc.sents if doc.has_annotation("SENT_START") else [doc[:]])
    ]
    runs = [
        list(range(i, min(i + run_length, len(sentences))))
        for i in range(0, len(sentences), run_length)
    ]
    random.Random(seed).shuffle(runs)
    subsets = {}
    for fraction in sorted(fractions):
        wanted, taken = math.ceil(fraction * len(sentences)), []
        for run in runs:
            if len(taken) >= wanted:
                break
            taken.extend(run)
        path = workdir / f"subset_{fraction:g}" / "train.spacy"
        path.parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=[sentences[i] for i in sorted(taken)]).to_disk(path)
        subsets[fraction] = {
            "path": path,
            "sentences": len(taken),
            "tokens": sum(len(sentences[i]) for i in taken),
        }
    return subsets


def budget(fraction: float, args) -> int:
    return round(max(args.min_seconds, args.max_seconds * math.sqrt(fraction)))


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    if args.merge:
        reports = [json.loads(Path(path).read_text()) for path in args.merge]
        return write_named(merged(reports, args), args.output, args.name, markdown, plot)
    subsets = nested_subsets(
        args.corpus / "train.spacy", args.fractions, args.subset_seed, args.doc_sents, args.workdir
    )
    labels = sorted(
        {
            ent.label_
            for doc in DocBin().from_disk(args.corpus / "train.spacy").get_docs(Vocab())
            for ent in doc.ents
        }
    )
    points = []
    for fraction, subset in subsets.items():
        corpus = subset["path"].parent
        for split in ("test", args.dev):
            link = corpus / f"{split}.spacy"
            if not link.exists():
                link.symlink_to((args.corpus / f"{split}.spacy").resolve())
        seconds = budget(fraction, args)
        argv = ["--corpus", str(corpus), "--dev", args.dev, "--systems", args.systems]
        argv += ["--seeds", str(args.seed), "--doc-sents", str(args.doc_sents)]
        argv += ["--max-seconds", str(seconds), "--max-steps", str(args.max_steps)]
        argv += [
            "--eval-frequency",
            str(args.eval_frequency),
            "--name",
            f"{args.name}_{fraction:g}",
        ]
        argv += [
            "--output",
            str(args.workdir / "reports"),
            "--workdir",
            str(args.workdir / f"{fraction:g}"),
        ]
        argv += ["--labels", ",".join(labels)]
        argv += ["--vectors", args.vectors] if args.vectors else []
        argv += ["--gold-preproc"] if args.gold_preproc else []
        print(
            f"{fraction:g} of the training set: {subset['sentences']:,} sentences, {seconds} s",
            flush=True,
        )
        report = accuracy.main(argv)
        for name, system in report["systems"].items():
            (run,) = system["runs"]
            points.append(
                {
                    "fraction": fraction,
                    "sentences": subset["sentences"],
                    "tokens": subset["tokens"],
                    "system": name,
                    "budget_seconds": seconds,
                    "train_seconds": run["train_seconds"],
                    "train_steps": run["train_steps"],
                    **{
                        f"{split}_{part}": (
                            run[split]["ents_f"] if part == "f" else run[split][part]["f"]
                        )
                        for split in accuracy.SCORED
                        for part in ("f", "unseen")
                    },
                }
            )
    report = {"settings": settings_of(args, leave_out=["merge"]), "points": points}
    return write_named(report, args.output, args.name, markdown, plot)


def merged(reports: List[Dict[str, Any]], args) -> Dict[str, Any]:
    """One report of the points of several runs of the same shares (one system
    each, say, run side by side), ordered by share."""
    points = sorted(
        (point for report in reports for point in report["points"]),
        key=lambda point: point["fraction"],
    )
    settings = {**reports[0]["settings"], "name": args.name}
    settings["systems"] = ",".join(dict.fromkeys(point["system"] for point in points))
    return {"settings": settings, "points": points}


def markdown(report: Dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"# {settings['name']}: entity F1 against the share of the training set\n",
        f"Nested subsets of runs of {settings['doc_sents']} sentences (subset seed "
        f"{settings['subset_seed']}), training seed {settings['seed']}; documents: "
        f"{settings['doc_sents']} consecutive test sentences a doc, sentences: one a doc; gold tokens.\n",
        "| share | sentences | system | test docs F1 | unseen | test sentences F1 | unseen | dev docs F1 | train s (steps) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for point in report["points"]:
        lines.append(
            f"| {point['fraction']:.0%} | {point['sentences']:,} | {point['system']} | "
            f"{score(point['test_docs_f'])} | {score(point['test_docs_unseen'])} | "
            f"{score(point['test_f'])} | {score(point['test_unseen'])} | {score(point['dev_docs_f'])} | "
            f"{point['train_seconds']:.0f} ({point['train_steps']}) |"
        )
    return "\n".join(lines) + "\n"


def plot(report: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for system in dict.fromkeys(point["system"] for point in report["points"]):
        points = [point for point in report["points"] if point["system"] == system]
        shares = [point["fraction"] * 100 for point in points]
        axes.plot(shares, [point["test_docs_f"] for point in points], "o-", label=f"{system}, all")
        axes.plot(
            shares,
            [point["test_docs_unseen"] for point in points],
            "o--",
            label=f"{system}, unseen",
        )
    axes.set_xscale("log")
    axes.set_xlabel("% of the training sentences")
    axes.set_ylabel("test entity F1 (documents)")
    axes.set_title(report["settings"]["name"])
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
