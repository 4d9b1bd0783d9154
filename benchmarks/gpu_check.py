"""A trained pipeline on GPU against the same pipeline on CPU: words/s of each and
how many test texts get the same entities.

    python -m benchmarks.gpu_check MODEL [--test corpus/test.spacy] [--batch-size 256]

Each device runs in a process of its own (CPU: one torch thread); needs CuPy and a GPU.
"""

import argparse
import json
import time
from pathlib import Path

import spacy

from benchmarks.measure import read_docs
from benchmarks.train import module_command, run_process


def annotate(model: str, test: Path, batch_size: int, gpu: bool) -> dict:
    """Entities of every test text and the best words/s of three passes."""
    if gpu:
        spacy.require_gpu(0)
    else:
        import torch

        torch.set_num_threads(1)
    nlp = spacy.load(model)
    texts = [doc.text for doc in read_docs(test, nlp)]
    n_words = sum(len(doc) for doc in nlp.tokenizer.pipe(texts))
    list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=batch_size))
        seconds.append(time.perf_counter() - start)
    ents = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
    return {"words_per_second": n_words / min(seconds), "ents": ents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--test", type=Path, default=Path("corpus/test.spacy"))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", choices=["gpu", "cpu"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device:
        print(json.dumps(annotate(args.model, args.test, args.batch_size, args.device == "gpu")))
        return
    results = {}
    for device in ("gpu", "cpu"):
        command = module_command(
            "gpu_check",
            args.model,
            "--test",
            str(args.test),
            "--batch-size",
            str(args.batch_size),
            "--device",
            device,
        )
        output = run_process(command, threads=0)
        results[device] = json.loads(output.splitlines()[-1])
        print(f"{args.model} on {device}: {results[device]['words_per_second']:,.0f} words/s")
    same = sum(g == c for g, c in zip(results["gpu"]["ents"], results["cpu"]["ents"]))
    print(f"same entities on GPU and CPU: {same} of {len(results['gpu']['ents'])} texts")


if __name__ == "__main__":
    main()
