"""Speed and peak memory of `python -m spacy_lstm_ner select` on a large input.

    python -m benchmarks.select_speed MODEL [--texts 1000000] [--test corpus/test.spacy]
        [--n 1000] [--strategy mnlp] [--output metrics]

Writes a .txt file of `--texts` lines (the test split's sentences, repeated) to a
temporary directory and runs the real command on it in a process of its own,
with one torch thread: texts per second over the whole run (reading, annotating,
ranking and writing) and the process' peak RSS. Writes `select_speed.json` and
`select_speed.md` to `--output`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from spacy.tokens import DocBin
from spacy.util import make_tempdir
from spacy.vocab import Vocab


def write_texts(test: Path, n_texts: int, path: Path) -> int:
    """`n_texts` lines of the test split's sentences, repeated; their tokens."""
    sentences = [
        sent.text
        for doc in DocBin().from_disk(test).get_docs(Vocab())
        for sent in (doc.sents if doc.has_annotation("SENT_START") else [doc[:]])
    ]
    sentences = [text for text in sentences if text.strip()]
    n_tokens = 0
    with path.open("w", encoding="utf8") as file:
        for i in range(n_texts):
            text = sentences[i % len(sentences)]
            n_tokens += text.count(" ") + 1
            file.write(text + "\n")
    return n_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--test", default="corpus/test.spacy")
    parser.add_argument("--n", type=int, default=1000, help="texts to choose")
    parser.add_argument("--strategy", default="mnlp")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--output", default="metrics")
    args = parser.parse_args()
    with make_tempdir() as tmp:
        n_tokens = write_texts(Path(args.test), args.texts, tmp / "texts.txt")
        command = [sys.executable, "-m", "spacy_lstm_ner", "select", args.model]
        command += [str(tmp / "texts.txt"), str(tmp / "chosen.jsonl"), "--n", str(args.n)]
        command += ["--strategy", args.strategy, "--batch-size", str(args.batch_size)]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        with (tmp / "chosen.jsonl").open() as chosen:
            n_chosen = sum(1 for _ in chosen)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "model": args.model,
        "strategy": args.strategy,
        "texts": args.texts,
        "tokens": n_tokens,
        "chosen": n_chosen,
        "batch_size": args.batch_size,
        "seconds": round(seconds, 1),
        "texts_per_second": round(args.texts / seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "torch_threads": 1,
    }
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "select_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    table = [
        "| model | strategy | texts | tokens | chosen | seconds | texts/s | peak RSS (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| `{args.model}` | {args.strategy} | {args.texts:,} | {n_tokens:,} | {n_chosen:,} | "
        f"{seconds:,.0f} | {args.texts / seconds:,.0f} | {peak_mb:,.0f} |",
    ]
    (output / "select_speed.md").write_text(
        "# `select` on a large input\n\n"
        f"`python -m benchmarks.select_speed {args.model} --texts {args.texts} "
        f"--n {args.n} --strategy {args.strategy}`, one torch thread.\n\n" + "\n".join(table) + "\n"
    )
    print("\n".join(table))


if __name__ == "__main__":
    main()
