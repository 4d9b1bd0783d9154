"""Accuracy that carries over to new names: each system of the `accuracy` suite trained
with several seeds under one budget, scored on test overall and on the mentions seen
and unseen in training (see generalisation.py).

    python -m benchmarks.accuracy --corpus corpus/conll --dev valid --vectors corpus/vectors
        [--systems spacy_ner_accuracy,lstm_ner_bilstm_crf] [--seeds 0,1,2] [--max-seconds 1800]
        [--max-steps 20000] [--gold-preproc] [--doc-sents 10] [--name conll] [--output metrics]

Writes `<name>.json` and `<name>.md`: per system and seed, dev and test entity F1
(scored on the gold tokens, as conlleval scores) on documents of `--doc-sents`
consecutive sentences and one sentence a doc, test P/R per type, F1 on the seen and
the unseen test mentions, training time and steps; and each system's mean and spread
over the seeds.
"""

import argparse
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from spacy.tokens import DocBin

from benchmarks.generalisation import score_pipeline, training_mentions
from benchmarks.measure import machine_info
from benchmarks.report import score, settings_of, write_named
from benchmarks.suites import SUITES
from benchmarks.train import train_system

# the scores of each run: key -> column name, the headline first
SCORED = {
    "test_docs": "test docs",
    "test": "test sentences",
    "dev_docs": "dev docs",
    "dev": "dev sentences",
}
DEFAULT_SYSTEMS = {
    "accuracy": "spacy_ner_accuracy,lstm_ner_bilstm_crf",
    # the ablation's ingredients; the suite's other systems run when named
    "accuracy_ablation": "bilstm_crf,-word_dropout,-char_cnn,dropout_0.2,hidden_200,depth_2,"
    "grad_clip_1,variational_dropout,word_dropout_0.7,char_cnn_100,clip_1_word_dropout_0.7,"
    "weight_decay_0.01,word_dropout_alpha_16,alpha_32_hidden_200_weight_decay_0.01,"
    "alpha_32_hidden_200_weight_decay_0.01_no_affixes,en_core_web_md",
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, default=Path("corpus"), help="dir with the split's DocBins"
    )
    parser.add_argument(
        "--train", default="train", help="training DocBin's name in --corpus (default train)"
    )
    parser.add_argument("--dev", default="dev", help="dev DocBin's name in --corpus (default dev)")
    parser.add_argument(
        "--test", default="test", help="test DocBin's name in --corpus (default test)"
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=Path("corpus/vectors"),
        help="static vectors of every system",
    )
    parser.add_argument(
        "--suite",
        choices=["accuracy", "accuracy_ablation"],
        default="accuracy",
        help="accuracy: bilstm_crf.cfg and spaCy's ner; accuracy_ablation: bilstm_crf.cfg "
        "without each of its ingredients, scored on dev only",
    )
    parser.add_argument(
        "--systems",
        help="comma-separated, from the suite in suites.py (default: "
        "spacy_ner_accuracy,lstm_ner_bilstm_crf; all of accuracy_ablation)",
    )
    parser.add_argument(
        "--seeds", default="0,1,2", help="comma-separated training seeds (default 0,1,2)"
    )
    parser.add_argument("--spacy-seeds", help="seeds of spaCy's ner, if others than --seeds")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1800.0,
        help="training budget of each run (default 1800)",
    )
    parser.add_argument(
        "--max-steps", type=int, default=20000, help="step budget of each run (default 20000)"
    )
    parser.add_argument(
        "--eval-frequency", type=int, default=500, help="dev evaluation every N steps (default 500)"
    )
    parser.add_argument(
        "--gold-preproc", action="store_true", help="train and pick the best model on gold tokens"
    )
    parser.add_argument(
        "--labels",
        help="comma-separated labels every lstm_ner system initializes with (default: the "
        "training set's), for a training set that lacks some of the dev set's",
    )
    parser.add_argument(
        "--doc-sents",
        type=int,
        default=10,
        help="consecutive sentences a document joins when scored on documents (default 10)",
    )
    parser.add_argument(
        "--torch-threads", type=int, default=1, help="torch threads per process (default 1)"
    )
    parser.add_argument("--name", default="accuracy", help="report name (default accuracy)")
    parser.add_argument(
        "--output", type=Path, default=Path("metrics"), help="where the report goes"
    )
    parser.add_argument(
        "--workdir", type=Path, help="trained models and logs (default training/<name>)"
    )
    parser.add_argument(
        "--reuse-training", action="store_true", help="score the runs a previous run trained again"
    )
    args = parser.parse_args(argv)
    args.quick = False
    args.workdir = args.workdir or Path("training") / args.name
    if args.doc_sents < 1:
        parser.error(f"--doc-sents must be at least 1, got {args.doc_sents}")
    if args.max_steps % args.eval_frequency:
        parser.error(
            "--max-steps must be a multiple of --eval-frequency, so training ends on a dev evaluation"
        )
    args.systems = args.systems or DEFAULT_SYSTEMS.get(args.suite, ",".join(SUITES[args.suite]))
    unknown = set(args.systems.split(",")) - set(SUITES[args.suite])
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {sorted(SUITES[args.suite])}")
    args.dev_only = args.suite == "accuracy_ablation"
    return args


def run_seed(name: str, seed: int, corpus: Dict[str, Path], args) -> Dict[str, Any]:
    """Train one system with one seed; its training figures and dev and test scores."""
    overrides = {"system.seed": seed}
    if args.gold_preproc:
        overrides.update({"corpora.train.gold_preproc": True, "corpora.dev.gold_preproc": True})
    if args.labels and not name.startswith("spacy"):
        overrides["initialize.components"] = {"lstm_ner": {"labels": args.labels.split(",")}}
    system = SUITES[args.suite][name]
    trained = train_system(f"{name}/seed{seed}", system, corpus, args.workdir, args, overrides)
    keep = ("train_seconds", "train_steps", "train_words_per_second", "stopped_by", "dev_curve")
    result = {"seed": seed, **{key: trained[key] for key in keep}}
    nlp = spacy.load(trained["model"])
    seen = training_mentions(DocBin().from_disk(corpus["train"]).get_docs(nlp.vocab))
    for split in ("dev", "test"):
        for key, n_sents in ((f"{split}_docs", args.doc_sents), (split, 1)):
            result[key] = (
                None
                if args.dev_only and split == "test"
                else score_pipeline(nlp, seen, corpus[split], n_sents)
            )
    return result


def summary(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Mean and spread (max - min) over the seeds of the headline figures."""
    figures = {}
    for split in SCORED:
        scored = [run[split] for run in runs if run[split] is not None]
        if scored:
            figures[f"{split}_f"] = [scores["ents_f"] for scores in scored]
            figures[f"{split}_seen_f"] = [scores["seen"]["f"] for scores in scored]
            figures[f"{split}_unseen_f"] = [scores["unseen"]["f"] for scores in scored]
    return {
        key: {"mean": statistics.fmean(v), "spread": max(v) - min(v)} for key, v in figures.items()
    }


def markdown(report: Dict[str, Any]) -> str:
    splits = [split for split in SCORED if not (report["settings"]["dev_only"] and "test" in split)]
    header = " | ".join(
        f"{SCORED[split]} F1 | {SCORED[split]} seen F1 | {SCORED[split]} unseen F1"
        for split in splits
    )
    share_of = splits[0].split("_")[0]
    lines = [
        f"# {report['settings']['name']}: entity F1 on all, seen and unseen mentions\n",
        f"Documents: {report['settings']['doc_sents']} consecutive sentences a doc; "
        "sentences: one sentence a doc. Both on the gold tokens, no sentence boundaries set.\n",
        f"| system | seed | {header} | unseen share of {share_of} | train s (steps) |",
        "| --- | ---: |" + " ---: |" * (3 * len(splits) + 2),
    ]
    for name, system in report["systems"].items():
        for run in system["runs"]:
            cells = " | ".join(
                f"{score(run[split]['ents_f'])} | {score(run[split]['seen']['f'])} | {score(run[split]['unseen']['f'])}"
                for split in splits
            )
            share = run[splits[0]]["unseen_share"]
            lines.append(
                f"| {name} | {run['seed']} | {cells} | {share:.1%} | {run['train_seconds']:.0f} ({run['train_steps']}) |"
            )
        mean = system["summary"]
        cells = " | ".join(
            f"{mean[f'{split}_f']['mean']:.3f} ± {mean[f'{split}_f']['spread'] / 2:.3f} | "
            f"{mean[f'{split}_seen_f']['mean']:.3f} | {mean[f'{split}_unseen_f']['mean']:.3f}"
            for split in splits
        )
        lines.append(f"| **{name}, mean ± spread/2** | | {cells} | | |")
    if report["settings"]["dev_only"]:
        return "\n".join(lines) + "\n"
    names = list(report["systems"])
    per_type = {
        name: report["systems"][name]["runs"][0]["test_docs"]["ents_per_type"] for name in names
    }
    lines += ["", "Test P / R / F1 per type on documents (first seed):", ""]
    lines += ["| type | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for label in sorted({label for scores in per_type.values() for label in scores}):
        cells = []
        for name in names:
            prf = per_type[name].get(label, {})
            cells.append(" / ".join(score(prf.get(key)) for key in ("p", "r", "f")))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    corpus = {
        split: args.corpus / f"{getattr(args, split)}.spacy" for split in ("train", "dev", "test")
    }
    systems = {}
    for name in args.systems.split(","):
        runs = []
        seeds = args.spacy_seeds if name.startswith("spacy") and args.spacy_seeds else args.seeds
        for seed in map(int, seeds.split(",")):
            print(f"Training {name}, seed {seed} ...", flush=True)
            runs.append(run_seed(name, seed, corpus, args))
        systems[name] = {
            "description": SUITES[args.suite][name].description,
            "runs": runs,
            "summary": summary(runs),
        }
    report = {"settings": {**settings_of(args), "machine": machine_info()}, "systems": systems}
    return write_named(report, args.output, args.name, markdown)


if __name__ == "__main__":
    main()
