"""Peak memory and time of predicting one long doc: 10k, 100k and 1M tokens.

    python -m benchmarks.long_docs MODEL [MODEL ...] [--tokens 10000 100000 1000000]
        [--output metrics]

Each doc is the test split's tokens, repeated, made into one `Doc` from words (no
tokenizer, no `nlp.max_length`); each (model, length) runs in a process of its own,
which loads the model, warms it up on a short doc, makes the long doc and then
measures `nlp(doc)`: peak RSS (`VmHWM`) above the RSS just before, and seconds.
An `lstm_ner` that scores its entities (`score_ents`, the default) is measured twice:
as loaded, and with `score_ents = false`. Writes `long_docs.json` and `long_docs.md`
to `--output`.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from benchmarks.plugins import peak_rss_mb, rss_mb
from benchmarks.train import module_command, run_process


def measure(model: str, test: str, n_tokens: int, scores: bool = True) -> Dict[str, Any]:
    """Run in the child process: one doc of `n_tokens` tokens through `nlp`;
    `scores=False` turns lstm_ner's entity scores off."""
    import spacy
    from spacy.tokens import Doc, DocBin

    nlp = spacy.load(model)
    if not scores:
        nlp.get_pipe("lstm_ner").score_ents = False
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


def scores_entities(model: str) -> bool:
    """Whether the pipeline saved at `model` has an lstm_ner that scores its entities."""
    from spacy.util import load_config

    component = load_config(Path(model) / "config.cfg")["components"].get("lstm_ner", {})
    return component.get("factory") == "lstm_ner" and component.get("score_ents", True)


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
        for scores in (True, False) if scores_entities(model) else (True,):
            name = model if scores else f"{model} (score_ents = false)"
            results[name] = []
            for n_tokens in args.tokens:
                command = module_command(
                    "long_docs", "--child", model, str(args.test), str(n_tokens), str(int(scores))
                )
                results[name].append(json.loads(run_process(command, threads=args.threads)))
                print(name, json.dumps(results[name][-1]), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "long_docs.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.output / "long_docs.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(
            json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:6] != ["0"]))
        )
    else:
        main()
