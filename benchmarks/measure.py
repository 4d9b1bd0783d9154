"""Measuring the trained models: test scores, inference speed, the time per stage of
lstm_ner's inference, inference memory (in a process of its own) and size; and the
machine they ran on.

    python -m benchmarks.measure MODEL TEST BATCH_SIZE N_WORDS

prints, as JSON, the peak RSS of loading MODEL and piping the TEST texts over and over
until N_WORDS words, and the RSS every tenth of the way.
"""

import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, List

import spacy
import torch
from spacy.tokens import DocBin
from spacy.training import Example

from benchmarks.plugins import peak_rss_mb, rss_mb
from benchmarks.stages import stage_profile
from benchmarks.train import module_command, run_process

TOKENIZATION = "spaCy's tokenization of the raw text (no gold tokens)"
# lstm_ner's scorer's figures, for every system; None where the scorer reports none.
# lstm_ner timed a second time with score_ents the other way from its config: what its
# entity probabilities cost, whichever way it is configured.
TOGGLED = "entity scores toggled"
# lstm_ner timed again in each inference dtype this CPU runs natively: "auto" picks one.
DTYPES = ("float32", "bfloat16")
SCORES = ("ents_p", "ents_r", "ents_f", "ner_tag_acc", "ner_entity_tag_acc")


def measure_models(systems: Dict[str, Dict[str, Any]], test_path: Path, args) -> int:
    """Add each trained model's test scores, inference speed, inference peak RSS
    (in a process of its own) and size to `systems`; the number of test tokens."""
    nlps = {name: spacy.load(r["model"]) for name, r in systems.items()}
    toggled = {
        f"{name} {TOGGLED}": spacy.load(
            systems[name]["model"],
            config={"components": {"lstm_ner": {"score_ents": not scores_on(nlp)}}},
        )
        for name, nlp in nlps.items()
        if "lstm_ner" in nlp.pipe_names
    }
    dtypes = measured_dtypes()
    print(
        f"CPU bfloat16: {'native' if 'bfloat16' in dtypes else 'not native'}; timing {', '.join(dtypes)}"
    )
    in_dtype = {
        f"{name} {dtype}": spacy.load(
            systems[name]["model"],
            config={"components": {"lstm_ner": {"model": {"inference_dtype": dtype}}}},
        )
        for name, nlp in nlps.items()
        if "lstm_ner" in nlp.pipe_names
        for dtype in dtypes
    }
    blank = spacy.blank("en")
    gold = read_docs(test_path, blank)
    texts = [doc.text for doc in gold]
    speed = inference_speed({**nlps, **toggled, **in_dtype}, texts, args.batch_size, args.repeats)
    for name, nlp in nlps.items():
        model = systems[name]["model"]
        command = module_command(
            "measure", model, str(test_path), str(args.batch_size), str(args.infer_words)
        )
        memory = json.loads(run_process(command, threads=args.torch_threads))
        systems[name].update(
            evaluate(nlp, gold, args.batch_size),
            **speed[name],
            infer_words_per_second_by_scores=by_scores(name, nlp, speed),
            infer_words_per_second_by_dtype={
                dtype: speed[f"{name} {dtype}"]["infer_words_per_second"]
                for dtype in dtypes
                if f"{name} {dtype}" in speed
            },
            infer_peak_rss_mb=memory["peak_rss_mb"],
            infer_rss_curve=memory["rss_curve"],
            infer_rss_growth=memory["rss_curve"][-1]["rss_mb"] / memory["rss_curve"][0]["rss_mb"]
            - 1.0,
            infer_stages=stage_profile(
                nlp if scores_on(nlp) else toggled[f"{name} {TOGGLED}"], texts, args.batch_size
            )
            if "lstm_ner" in nlp.pipe_names
            else None,
            model_size_mb=size_mb(Path(model)),
        )
    return sum(len(doc) for doc in blank.tokenizer.pipe(texts))


def scores_on(nlp) -> bool:
    """Whether `nlp`'s lstm_ner writes entity probabilities."""
    return nlp.get_pipe("lstm_ner").score_ents


def by_scores(name: str, nlp, speed: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """lstm_ner's words/s with entity scores on and off, one of them as configured;
    empty for a pipeline without lstm_ner."""
    if f"{name} {TOGGLED}" not in speed:
        return {}
    configured, other = (
        speed[key]["infer_words_per_second"] for key in (name, f"{name} {TOGGLED}")
    )
    on, off = (configured, other) if scores_on(nlp) else (other, configured)
    return {"scores on": on, "scores off": off}


def measured_dtypes() -> List[str]:
    """The inference dtypes to time lstm_ner in: float32, the path of every
    CPU, and bfloat16 where the CPU runs it natively (AVX-512 BF16 or AMX)."""
    from spacy_lstm_ner.layers.torch_lstm import native_bfloat16_cpu

    return list(DTYPES) if native_bfloat16_cpu() else ["float32"]


def evaluate(nlp, gold_docs: list, batch_size: int) -> Dict[str, Any]:
    """Test scores of `nlp` run on the raw texts, all from lstm_ner's scorer."""
    # Imported here: the inference-memory process of spaCy's ner does not load the package.
    from spacy_lstm_ner import score_lstm_ner

    predicted = nlp.pipe([doc.text for doc in gold_docs], batch_size=batch_size)
    scores = score_lstm_ner(Example(pred, gold) for pred, gold in zip(predicted, gold_docs))
    return {key: scores.get(key) for key in (*SCORES, "ents_per_type")}


def inference_speed(
    nlps: Dict[str, Any], texts: List[str], batch_size: int, repeats: int
) -> Dict[str, Any]:
    """Words (tokens produced) per second through `nlp.pipe`, systems
    alternated run by run; the median and every run."""
    for nlp in nlps.values():  # warm-up, untimed
        list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
    runs: Dict[str, List[float]] = {name: [] for name in nlps}
    for _ in range(repeats):
        for name, nlp in nlps.items():
            start = time.perf_counter()
            docs = list(nlp.pipe(texts, batch_size=batch_size))
            seconds = time.perf_counter() - start
            runs[name].append(sum(len(doc) for doc in docs) / seconds)
    return {
        name: {"infer_words_per_second": statistics.median(r), "infer_runs_words_per_second": r}
        for name, r in runs.items()
    }


def infer_memory(model: str, test_path: str, batch_size: str, n_words: str) -> Dict[str, Any]:
    """Load a model, pipe the test texts over and over until `n_words` words: the
    peak RSS of this process, and its RSS after each tenth of the words, the
    first tenth being the warm-up."""
    nlp = spacy.load(model)
    texts = [doc.text for doc in read_docs(Path(test_path), nlp)]
    total, step = int(n_words), int(n_words) // 10
    words, curve = 0, []
    while words < total:
        for doc in nlp.pipe(texts, batch_size=int(batch_size)):
            words += len(doc)
            if words >= step * (len(curve) + 1):
                curve.append({"words": words, "rss_mb": round(rss_mb(), 1)})
            if words >= total:
                break
    return {"peak_rss_mb": peak_rss_mb(), "rss_curve": curve}


def read_docs(path: Path, nlp) -> list:
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def machine_info() -> Dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average_at_start": os.getloadavg(),
        "bfloat16_native": "bfloat16" in measured_dtypes(),
        "versions": {
            pkg: version(pkg) for pkg in ("spacy", "thinc", "torch", "numpy", "spacy-lstm-ner")
        }
        | {"python": platform.python_version()},
    }


if __name__ == "__main__":
    print(json.dumps(infer_memory(*sys.argv[1:])))
