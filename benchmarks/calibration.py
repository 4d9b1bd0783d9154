"""How well the entity probabilities are calibrated, on the GMB test split.

    python -m benchmarks.calibration [--model NAME=PATH ...] [--max-seconds 600] [--output metrics]

For lstm_ner with `configs/bilstm.cfg` and `configs/bilstm_crf.cfg`, and for spaCy's
`beam_ner` (its `scored_ents`), each trained under the benchmark's budget unless a
trained pipeline is given with --model: every entity the system predicts on the raw test
texts, with its probability, is right when its start, end and label match a gold
entity's. Reports the expected calibration error (15 equal-width bins), the precision and
share of entities scored >= 0.9, and the reliability diagram; for lstm_ner, raw
(temperature 1) and with the temperature fitted on dev (`LSTMEntityRecognizer.calibrate`),
and inference words/s with scores on and off. Writes calibration.{json,md,png}.
"""

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy
import spacy
import torch

from benchmarks.measure import machine_info, read_docs
from benchmarks.suites import BILSTM, BILSTM_CRF, System, ablation
from benchmarks.train import prepare_corpus, train_system
from spacy_lstm_ner.calibration import calibrate_pipeline, calibration_error, reliability

SYSTEMS = {
    "spacy_beam_ner": System(
        "spaCy tok2vec + beam_ner (`init config -p ner -o efficiency`, factory beam_ner, CPU)",
        ablation("spacy_beam_ner"),
    ),
    "lstm_ner_bilstm": BILSTM,
    "lstm_ner_bilstm_crf": BILSTM_CRF,
}
HIGH = 0.9


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help=f"use this trained pipeline for system NAME ({', '.join(SYSTEMS)}) instead of training it",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600.0,
        help="training budget of each system (default 600)",
    )
    parser.add_argument(
        "--max-steps", type=int, default=20000, help="step budget of each system (default 20000)"
    )
    parser.add_argument(
        "--eval-frequency", type=int, default=200, help="dev evaluation every N steps (default 200)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=256, help="nlp.pipe batch size (default 256)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed inference runs per setting (default 3)"
    )
    parser.add_argument("--torch-threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--corpus", type=Path, default=Path("corpus"), help="dir with {train,dev,test}.spacy"
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=Path("corpus/vectors"),
        help="static vectors table (bilstm_crf.cfg)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path("training/calibration"), help="trained models and logs"
    )
    parser.add_argument(
        "--output", type=Path, default=Path("metrics"), help="where the report goes"
    )
    args = parser.parse_args(argv)
    args.models = dict(item.split("=", 1) for item in args.model)
    unknown = set(args.models) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown system(s) {sorted(unknown)}: choose from {list(SYSTEMS)}")
    args.quick = False
    return args


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(args.corpus, args.workdir, quick=False)
    results: Dict[str, Any] = {}
    for name, system in SYSTEMS.items():
        results[name] = {"description": system.description}
        if name in args.models:
            results[name].update(
                model=args.models[name], **earlier_training(Path(args.models[name]))
            )
        else:
            print(f"Training {name} ...", flush=True)
            trained = train_system(name, system, corpus, args.workdir, args)
            results[name].update(
                {key: trained[key] for key in ("model", "train_steps", "train_seconds")}
            )
    gold = read_docs(corpus["test"], spacy.blank("en"))
    texts = [doc.text for doc in gold]
    for name, result in results.items():
        print(f"Scoring {name} ...", flush=True)
        nlp = spacy.load(result["model"])
        if "lstm_ner" in nlp.pipe_names:
            result.update(lstm_ner_calibration(result["model"], gold, corpus["dev"], args))
        else:
            result["raw"] = summary(*beam_outcomes(nlp, gold, args.batch_size))
            result["speed"] = {"scores_on": words_per_second({"on": nlp}, texts, args)["on"]}
    report = {
        "settings": {
            "bins": 15,
            "high": HIGH,
            "max_seconds": args.max_seconds,
            "eval_frequency": args.eval_frequency,
            "batch_size": args.batch_size,
            "torch_threads": args.torch_threads,
            "machine": machine_info(),
        },
        "systems": results,
    }
    (args.output / "calibration.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf8"
    )
    (args.output / "calibration.md").write_text(markdown(report), encoding="utf8")
    plot(report, args.output / "calibration.png")
    print(markdown(report))
    return report


def earlier_training(model: Path) -> Dict[str, Any]:
    """Steps and seconds of a model this script (or the benchmark) trained
    earlier, from the dev curve beside its training directory; none otherwise."""
    curve = model.parent.parent / "dev_curve.jsonl"
    if not curve.exists():
        return {}
    last = json.loads(curve.read_text().splitlines()[-1])
    return {"train_steps": last["step"], "train_seconds": last["seconds"]}


def lstm_ner_calibration(model: str, gold: list, dev_path: Path, args) -> Dict[str, Any]:
    """ECE etc. at temperature 1, then with the temperature fitted on dev; speed with scores on and off."""
    nlp = spacy.load(model, config={"components": {"lstm_ner": {"score_ents": True}}})
    ner = nlp.get_pipe("lstm_ner")
    ner.cfg["temperature"] = 1.0
    raw = summary(*lstm_ner_outcomes(nlp, gold, args.batch_size))
    fit = calibrate_pipeline(nlp, dev_path, "lstm_ner", batch_size=args.batch_size)
    calibrated = summary(*lstm_ner_outcomes(nlp, gold, args.batch_size))
    texts = [doc.text for doc in gold]
    without = spacy.load(model, config={"components": {"lstm_ner": {"score_ents": False}}})
    speed = words_per_second({"scores_on": nlp, "scores_off": without}, texts, args)
    speed["cost"] = 1 - speed["scores_on"] / speed["scores_off"]
    return {
        "raw": raw,
        "calibrated": {
            **calibrated,
            "temperature": fit["temperature"],
            "dev_ece_before": fit["ece_before"],
            "dev_ece_after": fit["ece_after"],
        },
        "speed": speed,
    }


def lstm_ner_outcomes(nlp, gold: list, batch_size: int):
    """Each predicted entity's probability and whether it is a gold entity."""
    scores, correct = [], []
    for doc, gold_doc in zip(nlp.pipe([g.text for g in gold], batch_size=batch_size), gold):
        group = doc.spans["lstm_ner"]
        probability = dict(zip(group, group.attrs["scores"]))
        truth = _entities(gold_doc)
        for ent in doc.ents:
            scores.append(probability[ent])
            correct.append((ent.start_char, ent.end_char, ent.label_) in truth)
    return numpy.array(scores), numpy.array(correct)


def beam_outcomes(nlp, gold: list, batch_size: int):
    """beam_ner's `scored_ents` probability of each entity it predicts, and whether it is a gold entity."""
    ner = nlp.get_pipe("ner")
    scores, correct = [], []
    for start in range(0, len(gold), batch_size):
        batch = gold[start : start + batch_size]
        docs = [nlp.make_doc(doc.text) for doc in batch]
        for name, component in nlp.pipeline:
            if name == "ner":
                beams = ner.predict(docs)
                probabilities = ner.scored_ents(beams)
                ner.set_annotations(docs, beams)
            else:
                docs = list(component.pipe(docs))
        for doc, doc_probabilities, gold_doc in zip(docs, probabilities, batch):
            truth = _entities(gold_doc)
            for ent in doc.ents:
                scores.append(min(doc_probabilities[(ent.start, ent.end, ent.label_)], 1.0))
                correct.append((ent.start_char, ent.end_char, ent.label_) in truth)
    return numpy.array(scores), numpy.array(correct)


def _entities(doc) -> set:
    return {(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents}


def summary(scores: numpy.ndarray, correct: numpy.ndarray) -> Dict[str, Any]:
    high = scores >= HIGH
    return {
        "n_entities": int(len(scores)),
        "precision": float(correct.mean()),
        "mean_score": float(scores.mean()),
        "ece": calibration_error(scores, correct),
        "share_high": float(high.mean()),
        "precision_high": float(correct[high].mean()) if high.any() else None,
        "bins": reliability(scores, correct),
    }


def words_per_second(nlps: Dict[str, Any], texts: List[str], args) -> Dict[str, float]:
    """Median words/s of `nlp.pipe` over `texts`, settings alternated run by run."""
    runs: Dict[str, List[float]] = {name: [] for name in nlps}
    for nlp in nlps.values():
        list(nlp.pipe(texts[: args.batch_size], batch_size=args.batch_size))
    for _ in range(args.repeats):
        for name, nlp in nlps.items():
            start = time.perf_counter()
            n_words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=args.batch_size))
            runs[name].append(n_words / (time.perf_counter() - start))
    return {name: statistics.median(r) for name, r in runs.items()}


def markdown(report: Dict[str, Any]) -> str:
    rows = [
        "| system | training | temperature | entities | precision | ECE | share >= 0.9 | precision >= 0.9 | words/s, scores on | off | cost |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in report["systems"].items():
        speed = result["speed"]
        for setting in ("raw", "calibrated"):
            if setting not in result:
                continue
            s = result[setting]
            temperature = (
                f"{s['temperature']:.3f} (dev)"
                if setting == "calibrated"
                else ("1" if "calibrated" in result else "n/a")
            )
            high = "n/a" if s["precision_high"] is None else f"{s['precision_high']:.3f}"
            training = (
                f"{result['train_steps']:,} steps, {result['train_seconds']:.0f} s"
                if "train_steps" in result
                else "given"
            )
            rows.append(
                f"| {name} | {training} | {temperature} | {s['n_entities']:,} | {s['precision']:.3f} | **{s['ece']:.4f}** "
                f"| {s['share_high']:.3f} | {high} | {speed['scores_on']:,.0f} "
                f"| {_figure(speed.get('scores_off'), '{:,.0f}')} | {_figure(speed.get('cost'), '{:.1%}')} |"
            )
    return "\n".join(rows) + "\n"


def _figure(value: Optional[float], form: str) -> str:
    return "n/a" if value is None else form.format(value)


def plot(report: Dict[str, Any], path: Path) -> None:
    """Reliability diagram: share correct against mean probability per bin, one line per system and setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, result in report["systems"].items():
        for setting in ("raw", "calibrated"):
            if setting in result:
                s = result[setting]
                bins = s["bins"]
                ax.plot(
                    [b["mean_score"] for b in bins],
                    [b["accuracy"] for b in bins],
                    marker="o",
                    label=f"{name} {setting if 'calibrated' in result else ''} (ECE {s['ece']:.3f})",
                )
    ax.set_xlabel("mean predicted probability (15 equal-width bins)")
    ax.set_ylabel("share of entities right")
    ax.set_title("Entity probabilities on GMB test")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
