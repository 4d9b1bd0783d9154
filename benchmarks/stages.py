"""Where lstm_ner's inference time goes: seconds and words/s of each stage of
`nlp.pipe` over raw texts.

    python -m benchmarks.stages MODEL [--test corpus/test.spacy] [--batch-size 256]

Stages: `tokenizer` (spaCy's, on the raw texts), `features` (the embedding's
feature extractors: token attributes to hashed ids), `embedding` (the rest of the
embedding: hash tables, layer norm), `lstm` (the PyTorch LSTM's forward: its own
arithmetic), `output` (the rest of the model: padding, copies, the dense layer and
its log-softmax or CRF scores), `decoding` (constrained Viterbi), `entity scores` (the forward-backward
pass of the entity probabilities) and `annotations`
(entities onto `doc.ents`). Each stage is timed by wrapping the thinc layers', the
PyTorch module's and the component's functions, so the total is that of `nlp.pipe`
plus a timer call per layer.
"""

import argparse
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import spacy
import torch
from spacy.tokens import DocBin

STAGES = (
    "tokenizer",
    "features",
    "embedding",
    "lstm",
    "output",
    "decoding",
    "entity scores",
    "annotations",
)


def stage_profile(
    nlp, texts: List[str], batch_size: int, component: str = "lstm_ner"
) -> Dict[str, Dict[str, float]]:
    """Seconds and words/s of each stage, over one pass of `nlp.pipe` on `texts`."""
    pipe = nlp.get_pipe(component)
    model = pipe.model
    seconds: Dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    docs = [nlp.make_doc(text) for text in texts]
    seconds["tokenizer"] = time.perf_counter() - start
    features = [node for node in model.walk() if node.name == "extract_features"]
    timed = {"model": [model], "embed": [model.get_ref("embed")], "features": features}
    module = model.get_ref("lstm").shims[0].module
    pipe_module = sys.modules[type(pipe).__module__]
    tagger_module = sys.modules[type(pipe).__module__.rsplit(".", 1)[0] + ".layers.tagger"]
    with (
        _timed_layers(timed, seconds),
        _timed_methods(module, ("forward",), seconds, "lstm"),
        _timed_methods(pipe, ("predict", "set_annotations"), seconds),
        _timed_functions(pipe_module, ("score_entities",), seconds, "entity scores"),
        _timed_functions(tagger_module, ("_flat_prediction",), seconds, "embed"),
    ):
        n_words = sum(len(doc) for doc in nlp.pipe(docs, batch_size=batch_size))
    stages = {
        "tokenizer": seconds["tokenizer"],
        "features": seconds["features"],
        "embedding": seconds["embed"] - seconds["features"],
        "lstm": seconds["lstm"],
        "output": seconds["model"] - seconds["embed"] - seconds["lstm"],
        "decoding": seconds["predict"] - seconds["model"] - seconds["entity scores"],
        "entity scores": seconds["entity scores"],
        "annotations": seconds["set_annotations"],
    }
    return {
        name: {"seconds": s, "words_per_second": n_words / s if s > 0 else float("inf")}
        for name, s in stages.items()
    }


@contextmanager
def _timed_layers(layers: Dict[str, list], seconds: Dict[str, float]) -> Iterator[None]:
    """Add the time spent in each layer's forward function (its own call, not
    its backprop) to `seconds[name]`."""
    originals = [(node, node._func) for nodes in layers.values() for node in nodes]
    for name, nodes in layers.items():
        for node in nodes:
            node._func = _timer(node._func, name, seconds)
    try:
        yield
    finally:
        for node, func in originals:
            node._func = func


@contextmanager
def _timed_methods(obj, names, seconds: Dict[str, float], stage: str = "") -> Iterator[None]:
    """Add the time spent in each method to `seconds[stage or name]`."""
    own = {name: vars(obj)[name] for name in names if name in vars(obj)}
    for name in names:
        setattr(obj, name, _timer(getattr(obj, name), stage or name, seconds))
    try:
        yield
    finally:
        for name in names:
            if name in own:
                setattr(obj, name, own[name])
            else:
                delattr(obj, name)


@contextmanager
def _timed_functions(module, names, seconds: Dict[str, float], stage: str) -> Iterator[None]:
    """Add the time spent in each of a module's functions to `seconds[stage]`."""
    originals = {name: getattr(module, name) for name in names}
    for name, func in originals.items():
        setattr(module, name, _timer(func, stage, seconds))
    try:
        yield
    finally:
        for name, func in originals.items():
            setattr(module, name, func)


_running: set = set()


def _timer(func: Callable, name: str, seconds: Dict[str, float]) -> Callable:
    """`func`, adding its time to `seconds[name]`; a call inside another timed
    call of the same name is not counted again."""

    def timed(*args, **kwargs):
        if name in _running:
            return func(*args, **kwargs)
        _running.add(name)
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - start
            _running.discard(name)

    return timed


def markdown(stages: Dict[str, Dict[str, float]]) -> str:
    """The stages as a table: seconds, share of the total, words/s."""
    total = sum(stage["seconds"] for stage in stages.values())
    lines = ["| stage | seconds | share | words/s |", "| --- | ---: | ---: | ---: |"]
    for name, stage in stages.items():
        lines.append(
            f"| {name} | {stage['seconds']:.3f} | {stage['seconds'] / total:.0%} | {stage['words_per_second']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--test", type=Path, default=Path("corpus/test.spacy"))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, 0: default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in DocBin().from_disk(args.test).get_docs(nlp.vocab)]
    stage_profile(nlp, texts[: args.batch_size], args.batch_size)  # warm-up
    print(markdown(stage_profile(nlp, texts, args.batch_size)))


if __name__ == "__main__":
    main()
