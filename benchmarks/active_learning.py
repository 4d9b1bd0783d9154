"""Active learning, simulated: labels revealed from gold for the sentences each
strategy of `spacy_lstm_ner.selection` chooses, round after round.

    python -m benchmarks.active_learning --corpus corpus/conll --dev valid --vectors corpus/vectors
        --gold-preproc --name active_learning_conll [--strategies mnlp,entity,random]
        [--random-seeds 0,1,2] [--shares 0.01,0.02,0.05,0.1,0.16,0.25] [--jobs 2]

Every run starts from the same model, trained once on the random sentences
holding the first share of the training set's tokens (`--start-seed`). Each
round after, the strategy ranks the sentences not yet labelled by the model of
the round before (it sees no gold label and no test text), adds the highest
ranked until the labelled tokens reach the next share, and the model goes on
training from its weights (`spacy_lstm_ner.resume_from.v1`) on all labelled
sentences, for `--round-seconds` × √share (at least `--min-round-seconds`).
The runs of the strategies and seeds go `--jobs` at a time. Each round's model is scored on the test split on documents of
`--doc-sents` sentences, overall and on the mentions unseen in its labelled
sentences. Writes `<name>.json`, `<name>.md` and `<name>.png` to `--output`.
"""

import argparse
import random
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from benchmarks.generalisation import score_pipeline, training_mentions
from benchmarks.report import score, settings_of, write_named
from benchmarks.suites import System
from benchmarks.train import train_system
from spacy_lstm_ner.selection import Source, select


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--dev", default="dev", help="dev DocBin's name in --corpus")
    parser.add_argument("--vectors", help="vectors of a config that uses them")
    parser.add_argument("--gold-preproc", action="store_true")
    parser.add_argument("--config", default="configs/bilstm_crf.cfg")
    parser.add_argument("--strategies", default="mnlp,entity,random")
    parser.add_argument("--random-seeds", default="0,1,2", help="seeds of the random strategy")
    parser.add_argument("--shares", default="0.01,0.02,0.05,0.1,0.16,0.25")
    parser.add_argument("--start-seed", type=int, default=0, help="seed of the first sentences")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--first-seconds", type=float, default=300)
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=720,
        help="budget of a round that would label every token; a round at share s gets it × √s",
    )
    parser.add_argument("--min-round-seconds", type=float, default=120)
    parser.add_argument("--jobs", type=int, default=1, help="runs trained side by side")
    parser.add_argument(
        "--retrain-steps",
        type=int,
        default=0,
        help="after the last round, train --config from scratch on its sentences for this "
        "many steps (under --retrain-seconds) and score it too; 0: no retraining",
    )
    parser.add_argument("--retrain-seconds", type=float, default=1800)
    parser.add_argument(
        "--reuse-training",
        action="store_true",
        help="keep the rounds already trained in --workdir; select and score again",
    )
    parser.add_argument("--max-steps", type=int, default=6000)
    parser.add_argument("--eval-frequency", type=int, default=250)
    parser.add_argument("--doc-sents", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--name", default="active_learning")
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    parser.add_argument("--workdir", type=Path, help="default training/<name>")
    args = parser.parse_args(argv)
    args.workdir = args.workdir or Path("training") / args.name
    args.shares = [float(value) for value in args.shares.split(",")]
    if args.shares != sorted(args.shares) or not 0 < args.shares[0] < args.shares[-1] <= 1:
        parser.error(f"--shares must grow within (0, 1], got {args.shares}")
    args.quick = False
    return args


def sentences_of(path: Path) -> List[Doc]:
    return [
        sent.as_doc()
        for doc in DocBin().from_disk(path).get_docs(Vocab())
        for sent in (doc.sents if doc.has_annotation("SENT_START") else [doc[:]])
        if len(sent)
    ]


def first_sentences(sentences: List[Doc], share: float, seed: int) -> List[int]:
    """Random sentences holding `share` of the tokens."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    return take_tokens(order, sentences, share * sum(len(doc) for doc in sentences))


def take_tokens(ranked: List[int], sentences: List[Doc], tokens: float) -> List[int]:
    """The first of `ranked` until they hold `tokens` tokens."""
    taken, total = [], 0
    for i in ranked:
        if total >= tokens:
            break
        taken.append(i)
        total += len(sentences[i])
    return taken


def ranked_pool(
    model: Path, sentences: List[Doc], pool: List[int], strategy: str, seed: int, args
) -> List[int]:
    """The pool's sentences, by `strategy`, as the model of `model` ranks their texts."""
    if strategy == "random":
        order = list(pool)
        random.Random(seed).shuffle(order)
        return order
    nlp = spacy.load(model)
    sources = [Source(sentences[i].text, str(i)) for i in pool]
    chosen = select(nlp, sources, len(sources), strategy=strategy, batch_size=args.batch_size)
    return [int(item.where) for item in chosen]


def round_seconds(share: float, args) -> float:
    return max(args.min_round_seconds, args.round_seconds * share**0.5)


def train_round(
    name: str,
    docs: List[Doc],
    previous: Optional[Path],
    workdir: Path,
    labels: List[str],
    corpus: Dict[str, Path],
    args,
    max_seconds: float,
    max_steps: int,
) -> Tuple[Dict[str, Any], Path]:
    """A round trained on `docs`, from the weights of `previous` where there is one,
    under `max_seconds` and `max_steps`, and scored on test and dev: its figures and
    its model."""
    train = workdir / name / "train.spacy"
    train.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs).to_disk(train)
    overrides = {
        "system.seed": args.seed,
        "initialize.components": {"lstm_ner": {"labels": labels}},
    }
    if args.gold_preproc:
        overrides.update({"corpora.train.gold_preproc": True, "corpora.dev.gold_preproc": True})
    if previous is not None:
        overrides["initialize.after_init"] = {
            "@callbacks": "spacy_lstm_ner.resume_from.v1",
            "path": str(previous),
        }
    trained = train_system(
        name,
        System(args.config, args.config),
        {**corpus, "train": train},
        workdir,
        argparse.Namespace(**{**vars(args), "max_seconds": max_seconds, "max_steps": max_steps}),
        overrides,
    )
    model = Path(trained["model"])
    nlp = spacy.load(model)
    seen = training_mentions(docs)
    test = score_pipeline(nlp, seen, corpus["test"], args.doc_sents)
    dev = score_pipeline(nlp, seen, corpus["dev"], args.doc_sents)
    tokens = sum(len(doc) for doc in docs)
    record = {
        "sentences": len(docs),
        "tokens": tokens,
        "share": tokens / args.total_tokens,
        "budget_seconds": max_seconds,
        "train_seconds": trained["train_seconds"],
        "train_steps": trained["train_steps"],
        "test_docs_f": test["ents_f"],
        "test_docs_unseen": test["unseen"]["f"],
        "dev_docs_f": dev["ents_f"],
    }
    return record, model


def run(strategy: str, seed: int, first: List[int], start: Path, args) -> List[Dict[str, Any]]:
    """The rounds after the first of one strategy (and seed, for random), from the
    first round's sentences `first` and model `start`."""
    corpus = corpus_of(args)
    sentences = sentences_of(corpus["train"])
    labels = labels_of(sentences)
    workdir = args.workdir / f"{strategy}{seed if strategy == 'random' else ''}"
    labelled, previous, rounds = list(first), start, []
    for number, share in enumerate(args.shares[1:], start=1):
        pool = sorted(set(range(len(sentences))) - set(labelled))
        ranked = ranked_pool(previous, sentences, pool, strategy, seed + number, args)
        wanted = share * args.total_tokens - sum(len(sentences[i]) for i in labelled)
        labelled += take_tokens(ranked, sentences, wanted)
        docs = [sentences[i] for i in sorted(labelled)]
        record, previous = train_round(
            f"round{number}",
            docs,
            previous,
            workdir,
            labels,
            corpus,
            args,
            round_seconds(share, args),
            args.max_steps,
        )
        rounds.append({"round": number, **record})
        print(
            f"{strategy} {seed} round {number}: {record['share']:.1%} of the tokens, "
            f"test F1 {record['test_docs_f']:.3f}",
            flush=True,
        )
    if args.retrain_steps:
        record, _ = train_round(
            "retrained",
            docs,
            None,
            workdir,
            labels,
            corpus,
            args,
            args.retrain_seconds,
            args.retrain_steps,
        )
        rounds.append({"round": "retrained", **record})
    return rounds


def corpus_of(args) -> Dict[str, Path]:
    return {
        "train": args.corpus / "train.spacy",
        "dev": args.corpus / f"{args.dev}.spacy",
        "test": args.corpus / "test.spacy",
    }


def labels_of(sentences: List[Doc]) -> List[str]:
    return sorted({ent.label_ for doc in sentences for ent in doc.ents})


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    corpus = corpus_of(args)
    sentences = sentences_of(corpus["train"])
    args.total_tokens = sum(len(doc) for doc in sentences)
    first = first_sentences(sentences, args.shares[0], args.start_seed)
    docs = [sentences[i] for i in sorted(first)]
    start_round, start = train_round(
        "round0",
        docs,
        None,
        args.workdir / "start",
        labels_of(sentences),
        corpus,
        args,
        args.first_seconds,
        args.max_steps,
    )
    start_round = {"round": 0, **start_round}
    plans = [
        (strategy, seed)
        for strategy in args.strategies.split(",")
        for seed in (
            [int(seed) for seed in args.random_seeds.split(",")] if strategy == "random" else [0]
        )
    ]
    rounds_of = partial(run, first=first, start=start, args=args)
    strategies, seeds = zip(*plans)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            later = list(pool.map(rounds_of, strategies, seeds))
    else:
        later = list(map(rounds_of, strategies, seeds))
    runs = [
        {"strategy": strategy, "seed": seed, "rounds": [start_round] + rounds}
        for (strategy, seed), rounds in zip(plans, later)
    ]
    report = {"settings": settings_of(args), "runs": runs}
    return write_named(report, args.output, args.name, markdown, plot)


def markdown(report: Dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"# {settings['name']}: test F1 against the labelled share of the training tokens\n",
        f"`{settings['config']}`; documents of {settings['doc_sents']} test sentences, gold tokens; "
        f"first sentences drawn with seed {settings['start_seed']}.\n",
        "| strategy | seed | round | labelled tokens | test docs F1 | unseen | dev docs F1 | budget s | train s (steps) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run_ in report["runs"]:
        for r in run_["rounds"]:
            lines.append(
                f"| {run_['strategy']} | {run_['seed']} | {r['round']} | {r['share']:.1%} | "
                f"{score(r['test_docs_f'])} | {score(r['test_docs_unseen'])} | {score(r['dev_docs_f'])} | "
                f"{r['budget_seconds']:.0f} | {r['train_seconds']:.0f} ({r['train_steps']}) |"
            )
    return "\n".join(lines + ["", *by_round(report["runs"])]) + "\n"


def by_round(runs: List[Dict[str, Any]]) -> List[str]:
    """Test docs F1 per round and strategy; the random seeds' mean ± half their spread."""
    strategies = list(dict.fromkeys(run_["strategy"] for run_ in runs))
    lines = [
        "Test docs F1 per round (random: mean ± spread/2 over its seeds):\n",
        f"| round | labelled tokens | {' | '.join(strategies)} |",
        "| --- | ---: |" + " ---: |" * len(strategies),
    ]
    for i, first in enumerate(runs[0]["rounds"]):
        cells = []
        for strategy in strategies:
            values = [
                run_["rounds"][i]["test_docs_f"]
                for run_ in runs
                if run_["strategy"] == strategy and len(run_["rounds"]) > i
            ]
            mean, half = sum(values) / len(values), (max(values) - min(values)) / 2
            cells.append(score(mean) + (f" ± {half:.3f}" if len(values) > 1 else ""))
        lines.append(f"| {first['round']} | {first['share']:.1%} | {' | '.join(cells)} |")
    return lines


def plot(report: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for run_ in report["runs"]:
        label = run_["strategy"] + (f" {run_['seed']}" if run_["strategy"] == "random" else "")
        style = ":" if run_["strategy"] == "random" else "-"
        tuned = [r for r in run_["rounds"] if r["round"] != "retrained"]
        (line,) = axes.plot(
            [r["share"] * 100 for r in tuned],
            [r["test_docs_f"] for r in tuned],
            "o" + style,
            label=label,
        )
        for r in run_["rounds"]:
            if r["round"] == "retrained":
                axes.plot(r["share"] * 100, r["test_docs_f"], "*", color=line.get_color(), ms=10)
    axes.set_xlabel("% of the training tokens labelled")
    axes.set_ylabel("test entity F1 (documents)")
    axes.set_title(f"{report['settings']['name']} (*: retrained from scratch)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
