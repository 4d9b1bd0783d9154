"""Milliseconds per training update of a config, on the first batches of the training set.

    python -m benchmarks.update_speed CONFIG [--train corpus/train.spacy] [--batches 30]
        [--vectors corpus/vectors] [--threads 1]

A quick check of training cost between full benchmark runs: `nlp.update` on the first
batches that the config's `[training.batcher]` makes of its `[corpora.train]` reader's
examples, as `spacy train` makes them, after five warm-up updates; the median of the
timed updates and the mean words a batch.
"""

import argparse
import statistics
import time
from itertools import islice

import torch
from spacy.schemas import ConfigSchemaTraining
from spacy.training.initialize import init_nlp
from spacy.util import load_config, registry, resolve_dot_names

WARM_UP = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--train", default="corpus/train.spacy")
    parser.add_argument(
        "--vectors", default="corpus/vectors", help="used where the config names vectors"
    )
    parser.add_argument("--batches", type=int, default=30, help="timed updates")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = load_config(args.config)
    config["paths"].update(train=args.train, dev=args.train)
    if config["paths"]["vectors"] is not None:
        config["paths"]["vectors"] = args.vectors
    nlp = init_nlp(config)
    config = nlp.config.interpolate()
    training = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    (corpus,) = resolve_dot_names(config, [training["train_corpus"]])
    batches = list(islice(training["batcher"](corpus(nlp)), WARM_UP + args.batches))
    if len(batches) <= WARM_UP:
        raise SystemExit(
            f"{args.train} makes {len(batches)} batches: too few for {WARM_UP + 1} with "
            f"{args.config}'s [training.batcher]."
        )
    words = statistics.fmean(sum(len(eg) for eg in batch) for batch in batches[WARM_UP:])
    optimizer = nlp.create_optimizer()
    seconds = []
    for i, batch in enumerate(batches):
        start = time.perf_counter()
        nlp.update(batch, sgd=optimizer, drop=config["training"]["dropout"])
        if i >= WARM_UP:
            seconds.append(time.perf_counter() - start)
    print(
        f"{args.config}: {statistics.median(seconds) * 1000:.0f} ms per update of {words:.0f} words "
        f"(median of {len(seconds)}, torch threads {torch.get_num_threads()})"
    )


if __name__ == "__main__":
    main()
