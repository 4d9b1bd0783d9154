"""Peak memory and time of predicting one long doc: 10k, 100k and 1M tokens.

    python benchmarks/long_docs.py MODEL [MODEL ...] [--tokens 10000 100000 1000000]
        [--output metrics]

Each doc is the test split's tokens, repeated, made into one `Doc` from words (no
tokenizer, no `nlp.max_length`); each (model, length) runs in a process of its own,
which loads the model, warms it up on a short doc, makes the long doc and then
measures `nlp(doc)`: peak RSS (`VmHWM`) above the RSS just before, and seconds.
Writes `long_docs.json` and `long_docs.md` to `--output`.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from plugins import peak_rss_mb, rss_mb
from train import run_process


def measure(model: str, test: str, n_tokens: int) -> Dict[str, Any]:
    """Run in the child process: one doc of `n_tokens` tokens through `nlp`."""
    import spacy
    from spacy.tokens import Doc, DocBin

    nlp = spacy.load(model)
    words: List[str] = []
    for doc in DocBin().from_disk(test).get_docs(nlp.vocab):
        words.extend(token.text for token in doc)
        if len(words) >= n_tokens:
            break
    words = (words * (n_tokens // max(len(words), 1) + 1))[:n_tokens]
    nlp(Doc(nlp.vocab, words=words[:100]))
    doc = Doc(nlp.vocab, words=words)
    del words
    before = rss_mb()
    start = time.perf_counter()
    doc = nlp(doc)
    seconds = time.perf_counter() - start
    return {
        "tokens": n_tokens,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": before,
        "peak_above_before_mb": peak_rss_mb() - before,
        "seconds": seconds,
        "entities": len(doc.ents),
    }


def markdown(results: Dict[str, List[Dict[str, Any]]]) -> str:
    lines = [
        (
            "Peak RSS of `nlp(doc)` on one long doc, above the RSS with the model loaded and the doc "
            "made (`benchmarks/long_docs.py`; one process per figure, one torch thread):"
        ),
        "",
        "| model | tokens | peak above before, MiB | KiB per token | seconds | tokens/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for model, runs in results.items():
        for r in runs:
            lines.append(
                f"| {model} | {r['tokens']:,} | {r['peak_above_before_mb']:.0f} "
                f"| {r['peak_above_before_mb'] * 1024 / r['tokens']:.2f} | {r['seconds']:.1f} "
                f"| {r['tokens'] / r['seconds']:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--tokens", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--test", type=Path, default=Path("corpus/test.spacy"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    args = parser.parse_args()
    results = {}
    for model in args.models:
        results[model] = []
        for n_tokens in args.tokens:
            command = [sys.executable, __file__, "--child", model, str(args.test), str(n_tokens)]
            results[model].append(json.loads(run_process(command, threads=args.threads)))
            print(json.dumps(results[model][-1]), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "long_docs.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.output / "long_docs.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        main()
