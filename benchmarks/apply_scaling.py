"""Throughput of `python -m spacy_lstm_ner apply` on a local Dask cluster of 1 and 2
workers, against `spacy apply --n-process 1` and `2` and `nlp.pipe` in one process
(alone; writing the shards as a Dask worker does, without Dask; and writing the docs
with spaCy's DocBin as the shards hold them), on the GMB test texts repeated to at
least a million words.

    python -m benchmarks.apply_scaling [MODEL] [--corpus corpus/test.spacy] [--min-words 1000000]
        [--systems "nlp.pipe,dask apply"] [--name apply_scaling]

MODEL defaults to training/bilstm/model-best (`spacy project run train`). Every
process runs one torch thread. Each system's time is split into start-up (starting
processes, loading the model) and annotation: `nlp.pipe` is timed around the loop;
Dask's summary times its tasks; `spacy apply`'s start-up is the time of the same
command on one text, subtracted from its wall time. Writes NAME.json, NAME.md and
NAME.png to --output (default metrics/, NAME apply_scaling).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple, Optional

import spacy
import srsly
import torch
from spacy.tokens import DocBin

from benchmarks.measure import machine_info
from spacy_lstm_ner.annotate import apply
from spacy_lstm_ner.annotate.worker import annotate_shard, unload_pipelines

SYSTEMS = [
    ("nlp.pipe", 1),
    ("nlp.pipe + shard writer", 1),
    ("nlp.pipe + DocBin", 1),
    ("spacy apply", 1),
    ("dask apply", 1),
    ("spacy apply", 2),
    ("dask apply", 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="training/bilstm/model-best")
    parser.add_argument("--corpus", type=Path, default=Path("corpus/test.spacy"))
    parser.add_argument("--min-words", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--docs-per-shard", type=int, default=1000)
    parser.add_argument(
        "--repeats", type=int, default=1, help="passes over all systems; the median is kept"
    )
    parser.add_argument(
        "--systems",
        default=",".join(dict.fromkeys(name for name, _ in SYSTEMS)),
        help="comma-separated: which of the systems to time (default: all)",
    )
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    parser.add_argument(
        "--name", default="apply_scaling", help="file name of the outputs, without suffix"
    )
    parser.add_argument("--workdir", type=Path, default=Path("training/apply_scaling"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    texts, words = write_texts(args.corpus, args.min_words, args.workdir / "texts.jsonl")
    srsly.write_jsonl(args.workdir / "one.jsonl", [{"text": texts[0]}])
    print(f"{len(texts):,} texts, {words:,} words", file=sys.stderr)
    chosen = [name.strip() for name in args.systems.split(",")]
    unknown = set(chosen) - set(MEASURE)
    if unknown:
        parser.error(f"unknown --systems {sorted(unknown)}; choose from {list(MEASURE)}")
    systems = [(name, n) for name, n in SYSTEMS if name in chosen]
    runs = {f"{name} ({n})": [] for name, n in systems}
    for _ in range(args.repeats):
        for name, n in systems:
            result = MEASURE[name](args, n)
            assert result["words"] == words, (name, result["words"], words)
            runs[f"{name} ({n})"].append(result)
            print(f"{name} ({n}): {fmt_rate(result)}", file=sys.stderr)
    results = {system: median_run(system_runs) for system, system_runs in runs.items()}
    report = {
        "settings": {
            "model": args.model,
            "corpus": str(args.corpus),
            "texts": len(texts),
            "words": words,
            "batch_size": args.batch_size,
            "docs_per_shard": args.docs_per_shard,
            "repeats": args.repeats,
            "machine": machine_info(),
        },
        "results": results,
        "targets": targets(results),
    }
    (args.output / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output / f"{args.name}.md").write_text(markdown(report))
    plot(results, args.output / f"{args.name}.png")
    print(markdown(report))


def write_texts(corpus: Path, min_words: int, path: Path):
    """The corpus texts, repeated until spaCy's tokenizer counts `min_words`."""
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(corpus).get_docs(nlp.vocab))
    base = [doc.text for doc in docs]
    base_words = sum(len(doc) for doc in nlp.tokenizer.pipe(base))
    repeats = -(-min_words // base_words)
    texts = base * repeats
    srsly.write_jsonl(path, [{"text": text} for text in texts])
    return texts, base_words * repeats


def load_pipeline_and_texts(args):
    """The pipeline, the texts, and the seconds it took to load them."""
    start = time.perf_counter()
    nlp = spacy.load(args.model)
    texts = read_texts(args)
    return nlp, texts, time.perf_counter() - start


def read_texts(args) -> list:
    return [line["text"] for line in srsly.read_jsonl(args.workdir / "texts.jsonl")]


def measure_nlp_pipe(args, n: int) -> dict:
    nlp, texts, startup = load_pipeline_and_texts(args)
    start = time.perf_counter()
    words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=args.batch_size))
    seconds = time.perf_counter() - start
    return {
        "words": words,
        "wall_seconds": startup + seconds,
        "startup_seconds": startup,
        "seconds": seconds,
    }


def measure_nlp_pipe_shard_writer(args, n: int) -> dict:
    """A Dask worker's tasks run one after another in this process, without Dask:
    `nlp.pipe` over each shard's texts, the docs written as the worker writes them,
    and the bytes to the shard's file."""
    unload_pipelines()  # loaded by an earlier pass: start-up loads it again
    start = time.perf_counter()
    texts = read_texts(args)
    annotate_shard(args.model, None, [("texts", texts[:1])], args.batch_size)  # loads the pipeline
    startup = time.perf_counter() - start
    output = args.workdir / "nlp_pipe_shard_writer"
    output.mkdir(exist_ok=True)
    start = time.perf_counter()
    words = 0
    for first in range(0, len(texts), args.docs_per_shard):
        payload = [("texts", texts[first : first + args.docs_per_shard])]
        result = annotate_shard(args.model, None, payload, args.batch_size)
        (output / "shard.spacy").write_bytes(result["data"])
        words += result["words"]
    seconds = time.perf_counter() - start
    return {
        "words": words,
        "wall_seconds": startup + seconds,
        "startup_seconds": startup,
        "seconds": seconds,
    }


def measure_nlp_pipe_docbin(args, n: int) -> dict:
    """`nlp.pipe` writing what Dask's shards hold with spaCy's own DocBin: the
    docs, `--docs-per-shard` to a file."""
    nlp, texts, startup = load_pipeline_and_texts(args)
    output = args.workdir / "nlp_pipe_docbin"
    output.mkdir(exist_ok=True)
    start = time.perf_counter()
    words, shard = 0, []
    for doc in nlp.pipe(texts, batch_size=args.batch_size):
        words += len(doc)
        shard.append(doc)
        if len(shard) == args.docs_per_shard:
            DocBin(docs=shard, store_user_data=True).to_disk(output / "shard.spacy")
            shard = []
    if shard:
        DocBin(docs=shard, store_user_data=True).to_disk(output / "shard.spacy")
    seconds = time.perf_counter() - start
    return {
        "words": words,
        "wall_seconds": startup + seconds,
        "startup_seconds": startup,
        "seconds": seconds,
    }


def measure_spacy_apply(args, n: int) -> dict:
    def run(data: str) -> float:
        command = [
            sys.executable,
            "-m",
            "spacy",
            "apply",
            args.model,
            str(args.workdir / data),
            str(args.workdir / "spacy_apply.spacy"),
            "--force",
            "--batch-size",
            str(args.batch_size),
            "--n-process",
            str(n),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - start

    startup = run("one.jsonl")
    wall = run("texts.jsonl")
    docbin = DocBin().from_disk(args.workdir / "spacy_apply.spacy")
    words = sum(len(tokens) for tokens in docbin.tokens)
    return {
        "words": words,
        "wall_seconds": wall,
        "startup_seconds": startup,
        "seconds": wall - startup,
    }


def measure_dask_apply(args, n: int) -> dict:
    start = time.perf_counter()
    summary = apply(
        args.model,
        args.workdir / "texts.jsonl",
        args.workdir / f"dask_{n}",
        n_workers=n,
        batch_size=args.batch_size,
        docs_per_shard=args.docs_per_shard,
        overwrite=True,
        progress=False,
    )
    wall = time.perf_counter() - start
    return {
        "words": summary.words,
        "wall_seconds": wall,
        "startup_seconds": wall - summary.seconds,
        "seconds": summary.seconds,
    }


MEASURE = {
    "nlp.pipe": measure_nlp_pipe,
    "nlp.pipe + shard writer": measure_nlp_pipe_shard_writer,
    "nlp.pipe + DocBin": measure_nlp_pipe_docbin,
    "spacy apply": measure_spacy_apply,
    "dask apply": measure_dask_apply,
}


def median_run(runs: list) -> dict:
    run = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {
        **run,
        "words_per_second": run["words"] / run["seconds"],
        "all_words_per_second": [r["words"] / r["seconds"] for r in runs],
    }


class Ratio(NamedTuple):
    numerator: str
    denominator: str
    target: Optional[float] = None
    overhead: bool = False  # reported as 1 - numerator / denominator


RATIOS = {
    "dask_2_over_1": Ratio("dask apply (2)", "dask apply (1)", 1.6),
    "dask_1_overhead_vs_nlp_pipe": Ratio("dask apply (1)", "nlp.pipe (1)", 0.10, overhead=True),
    "dask_1_overhead_vs_shard_writer": Ratio(
        "dask apply (1)", "nlp.pipe + shard writer (1)", 0.10, overhead=True
    ),
    "dask_1_over_nlp_pipe_docbin": Ratio("dask apply (1)", "nlp.pipe + DocBin (1)"),
    "spacy_apply_2_over_1": Ratio("spacy apply (2)", "spacy apply (1)"),
}


def targets(results: dict) -> dict:
    """Each ratio of `RATIOS` whose systems were timed, with its target."""
    rate = {system: result["words_per_second"] for system, result in results.items()}
    figures = {}
    for name, ratio in RATIOS.items():
        if ratio.numerator in rate and ratio.denominator in rate:
            value = rate[ratio.numerator] / rate[ratio.denominator]
            figures[name] = 1 - value if ratio.overhead else value
            if ratio.target is not None:
                figures[f"{name}_target"] = ratio.target
    figures["median_of"] = statistics.median(
        [len(r["all_words_per_second"]) for r in results.values()]
    )
    return figures


def fmt_rate(result: dict) -> str:
    return f"{result['words'] / result['seconds']:,.0f} words/s over {result['seconds']:.1f} s"


def markdown(report: dict) -> str:
    s, results, t = report["settings"], report["results"], report["targets"]
    one = {
        system.rsplit(" (", 1)[0]: result
        for system, result in results.items()
        if "apply (1)" in system
    }
    intro = (
        f"`{s['model']}` over the GMB test texts repeated to {s['texts']:,} texts, {s['words']:,} words; "
        f"batch size {s['batch_size']}, {s['docs_per_shard']} docs per Dask shard, one torch thread per "
        f"process, {s['machine']['cpus_usable']} CPUs; median of {s['repeats']} run(s). Annotation excludes "
        "start-up (processes, model loading)."
    )
    lines = [
        intro,
        "",
        "| system | processes | wall s | start-up s | annotation s | words/s | × 1 process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for system, result in results.items():
        name, n = system.rsplit(" (", 1)
        base = one.get(name)
        speedup = f"{result['words_per_second'] / base['words_per_second']:.2f}" if base else ""
        lines.append(
            f"| {name} | {n.rstrip(')')} | {result['wall_seconds']:.1f} | {result['startup_seconds']:.1f} | "
            f"{result['seconds']:.1f} | {result['words_per_second']:,.0f} | {speedup} |"
        )
    sentences = {
        "dask_2_over_1": "Dask, 2 workers over 1: {:.2f}× (target ≥ {}×).",
        "dask_1_overhead_vs_nlp_pipe": "Dask's overhead at one worker against `nlp.pipe`: {:.1%} (target ≤ {:.0%}).",
        "dask_1_overhead_vs_shard_writer": (
            "Against `nlp.pipe` writing the same shards in one process, without Dask: {:.1%} (target ≤ {:.0%})."
        ),
        "dask_1_over_nlp_pipe_docbin": "One worker runs {:.1f}× as fast as `nlp.pipe` writing the same docs with spaCy's DocBin.",
        "spacy_apply_2_over_1": "`spacy apply`, 2 processes over 1: {:.2f}×.",
    }
    verdict = " ".join(
        sentence.format(t[name], t.get(f"{name}_target"))
        for name, sentence in sentences.items()
        if name in t
    )
    lines += ["", verdict, ""]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, marker in (("dask apply", "o"), ("spacy apply", "s")):
        ns = [n for system, n in SYSTEMS if system == name and f"{system} ({n})" in results]
        if not ns:
            continue
        rates = [results[f"{name} ({n})"]["words_per_second"] for n in ns]
        ax.plot(ns, rates, marker=marker, label=name)
        if name == "dask apply":
            ax.plot(
                ns,
                [rates[0] * n for n in ns],
                linestyle=":",
                color="grey",
                label="linear from 1 Dask worker",
            )
    for system, style in (
        ("nlp.pipe", "--"),
        ("nlp.pipe + shard writer", "-."),
        ("nlp.pipe + DocBin", ":"),
    ):
        if f"{system} (1)" in results:
            ax.axhline(
                results[f"{system} (1)"]["words_per_second"],
                color="black",
                linestyle=style,
                label=f"{system}, one process",
            )
    ax.set_xticks([1, 2])
    ax.set_xlabel("worker processes")
    ax.set_ylabel("words/s (annotation)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
