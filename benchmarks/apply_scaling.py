"""Throughput of `python -m spacy_lstm_ner apply` on a local Dask cluster of 1 and 2
workers, against `spacy apply --n-process 1` and `2` and `nlp.pipe` in one process
(alone, and writing the docs with DocBin as the shards hold them), on the GMB test
texts repeated to at least a million words.

    python benchmarks/apply_scaling.py [MODEL] [--corpus corpus/test.spacy] [--min-words 1000000]

MODEL defaults to training/bilstm/model-best (`spacy project run train`). Every
process runs one torch thread. Each system's time is split into start-up (starting
processes, loading the model) and annotation: `nlp.pipe` is timed around the loop;
Dask's summary times its tasks; `spacy apply`'s start-up is the time of the same
command on one text, subtracted from its wall time. Writes apply_scaling.json,
apply_scaling.md and apply_scaling.png to --output (default metrics/).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import spacy
import srsly
import torch
from spacy.tokens import DocBin

sys.path.insert(0, str(Path(__file__).parent))
from measure import machine_info

from spacy_lstm_ner.annotate import apply

SYSTEMS = [
    ("nlp.pipe", 1),
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
    parser.add_argument("--repeats", type=int, default=1, help="passes over all systems; the median is kept")
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    parser.add_argument("--workdir", type=Path, default=Path("training/apply_scaling"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    texts, words = write_texts(args.corpus, args.min_words, args.workdir / "texts.jsonl")
    srsly.write_jsonl(args.workdir / "one.jsonl", [{"text": texts[0]}])
    print(f"{len(texts):,} texts, {words:,} words", file=sys.stderr)
    runs = {f"{name} ({n})": [] for name, n in SYSTEMS}
    for _ in range(args.repeats):
        for name, n in SYSTEMS:
            result = MEASURE[name](args, n)
            assert result["words"] == words, (name, result["words"], words)
            runs[f"{name} ({n})"].append(result)
            print(f"{name} ({n}): {fmt_rate(result)}", file=sys.stderr)
    results = {system: median_run(system_runs) for system, system_runs in runs.items()}
    report = {
        "settings": {
            "model": args.model, "corpus": str(args.corpus), "texts": len(texts), "words": words,
            "batch_size": args.batch_size, "docs_per_shard": args.docs_per_shard, "repeats": args.repeats,
            "machine": machine_info(),
        },
        "results": results,
        "targets": targets(results),
    }
    (args.output / "apply_scaling.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output / "apply_scaling.md").write_text(markdown(report))
    plot(results, args.output / "apply_scaling.png")
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
    texts = [line["text"] for line in srsly.read_jsonl(args.workdir / "texts.jsonl")]
    return nlp, texts, time.perf_counter() - start


def measure_nlp_pipe(args, n: int) -> dict:
    nlp, texts, startup = load_pipeline_and_texts(args)
    start = time.perf_counter()
    words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=args.batch_size))
    seconds = time.perf_counter() - start
    return {"words": words, "wall_seconds": startup + seconds, "startup_seconds": startup, "seconds": seconds}


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
    return {"words": words, "wall_seconds": startup + seconds, "startup_seconds": startup, "seconds": seconds}


def measure_spacy_apply(args, n: int) -> dict:
    def run(data: str) -> float:
        command = [
            sys.executable, "-m", "spacy", "apply", args.model, str(args.workdir / data),
            str(args.workdir / "spacy_apply.spacy"), "--force", "--batch-size", str(args.batch_size),
            "--n-process", str(n),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - start

    startup = run("one.jsonl")
    wall = run("texts.jsonl")
    docbin = DocBin().from_disk(args.workdir / "spacy_apply.spacy")
    words = sum(len(tokens) for tokens in docbin.tokens)
    return {"words": words, "wall_seconds": wall, "startup_seconds": startup, "seconds": wall - startup}


def measure_dask_apply(args, n: int) -> dict:
    start = time.perf_counter()
    summary = apply(
        args.model, args.workdir / "texts.jsonl", args.workdir / f"dask_{n}", n_workers=n,
        batch_size=args.batch_size, docs_per_shard=args.docs_per_shard, overwrite=True, progress=False,
    )
    wall = time.perf_counter() - start
    return {"words": summary.words, "wall_seconds": wall, "startup_seconds": wall - summary.seconds, "seconds": summary.seconds}


MEASURE = {"nlp.pipe": measure_nlp_pipe, "nlp.pipe + DocBin": measure_nlp_pipe_docbin, "spacy apply": measure_spacy_apply, "dask apply": measure_dask_apply}


def median_run(runs: list) -> dict:
    run = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {
        **run,
        "words_per_second": run["words"] / run["seconds"],
        "all_words_per_second": [r["words"] / r["seconds"] for r in runs],
    }


def targets(results: dict) -> dict:
    rate = {system: result["words_per_second"] for system, result in results.items()}
    scaling = rate["dask apply (2)"] / rate["dask apply (1)"]
    overhead = 1 - rate["dask apply (1)"] / rate["nlp.pipe (1)"]
    return {
        "dask_2_over_1": scaling,
        "dask_2_over_1_target": 1.6,
        "dask_1_overhead_vs_nlp_pipe": overhead,
        "dask_1_overhead_target": 0.10,
        "dask_1_over_nlp_pipe_docbin": rate["dask apply (1)"] / rate["nlp.pipe + DocBin (1)"],
        "spacy_apply_2_over_1": rate["spacy apply (2)"] / rate["spacy apply (1)"],
        "median_of": statistics.median([len(r["all_words_per_second"]) for r in results.values()]),
    }


def fmt_rate(result: dict) -> str:
    return f"{result['words'] / result['seconds']:,.0f} words/s over {result['seconds']:.1f} s"


def markdown(report: dict) -> str:
    s, results, t = report["settings"], report["results"], report["targets"]
    one = {"dask apply": results["dask apply (1)"], "spacy apply": results["spacy apply (1)"]}
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
    verdict = (
        f"Dask, 2 workers over 1: {t['dask_2_over_1']:.2f}× (target ≥ {t['dask_2_over_1_target']}×). "
        f"Dask's overhead at one worker against `nlp.pipe`: {t['dask_1_overhead_vs_nlp_pipe']:.1%} "
        f"(target ≤ {t['dask_1_overhead_target']:.0%}); one worker runs {t['dask_1_over_nlp_pipe_docbin']:.1f}× "
        f"as fast as `nlp.pipe` writing the same docs with spaCy's DocBin. `spacy apply`, 2 processes over 1: "
        f"{t['spacy_apply_2_over_1']:.2f}×."
    )
    lines += ["", verdict, ""]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, marker in (("dask apply", "o"), ("spacy apply", "s")):
        ns = [n for system, n in SYSTEMS if system == name]
        rates = [results[f"{name} ({n})"]["words_per_second"] for n in ns]
        ax.plot(ns, rates, marker=marker, label=name)
        if name == "dask apply":
            ax.plot(ns, [rates[0] * n for n in ns], linestyle=":", color="grey", label="linear from 1 Dask worker")
    ax.axhline(results["nlp.pipe (1)"]["words_per_second"], color="black", linestyle="--", label="nlp.pipe, one process")
    ax.axhline(
        results["nlp.pipe + DocBin (1)"]["words_per_second"], color="black", linestyle=":", label="nlp.pipe + DocBin, one process"
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
