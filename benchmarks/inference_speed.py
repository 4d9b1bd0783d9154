"""Words/sec of a trained pipeline through `nlp.pipe` on the test texts as raw strings.

    python -m benchmarks.inference_speed MODEL [--test corpus/test.spacy] [--threads 1]

A quick check between full benchmark runs: batch size 256, one warm-up, the median
of three timed runs.
"""

import argparse
from pathlib import Path

import spacy
import torch

from benchmarks.measure import inference_speed, read_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--test", type=Path, default=Path("corpus/test.spacy"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in read_docs(args.test, nlp)]
    speed = inference_speed({args.model: nlp}, texts, args.batch_size, repeats=3)[args.model]
    print(
        f"{args.model}: {speed['infer_words_per_second']:,.0f} words/s "
        f"(batch {args.batch_size}, torch threads {torch.get_num_threads()})"
    )


if __name__ == "__main__":
    main()
