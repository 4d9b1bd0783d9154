"""Words/sec of a trained pipeline through `nlp.pipe` on the test texts as raw strings.

    python benchmarks/inference_speed.py MODEL [--test corpus/test.spacy] [--threads 1]

A quick check between full benchmark runs: batch size 256, one warm-up, the median
of three timed runs.
"""
import argparse
import statistics
import time

import spacy
import torch
from spacy.tokens import DocBin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--test", default="corpus/test.spacy")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in DocBin().from_disk(args.test).get_docs(nlp.vocab)]
    list(nlp.pipe(texts[:300], batch_size=args.batch_size))
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        n_words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=args.batch_size))
        seconds.append(time.perf_counter() - start)
    print(f"{args.model}: {n_words / statistics.median(seconds):,.0f} words/s "
          f"(batch {args.batch_size}, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
