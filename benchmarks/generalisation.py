"""Entity scores on the test mentions seen and unseen in training (Augenstein et al. 2017).

    python -m benchmarks.generalisation MODEL TRAIN_SPACY TEST_SPACY [--n-sents 10] [--output FILE.json]

A mention is *unseen* when its lowercased text, with its label, is never an entity of
the training split. Recall counts gold mentions and precision predicted ones, each
grouped by its own text and label; a mention is right when the other side has an entity
with the same token boundaries and label. The pipeline runs on the test docs' gold tokens,
one sentence a doc, or with `--n-sents N` N consecutive sentences a doc (documents, as
users feed them; no sentence boundaries are set on the docs the pipeline reads), or with
`--n-sents 0` each doc of TEST_SPACY as it is (articles, as `conll-articles` writes them).
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Set, Tuple

import spacy
import typer
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example

from benchmarks.report import score
from spacy_lstm_ner.corpus import read_documents

GROUPS = ("seen", "unseen")
app = typer.Typer(add_completion=False)


def training_mentions(docs: Iterable[Doc]) -> Set[Tuple[str, str]]:
    """The (lowercased text, label) of every entity of `docs`."""
    return {(ent.text.lower(), ent.label_) for doc in docs for ent in doc.ents}


def score_by_novelty(examples: Iterable[Example], seen: Set[Tuple[str, str]]) -> Dict[str, Any]:
    """Entity P/R/F and counts of the `seen` and the unseen mentions, and the
    unseen share of the gold mentions; 0.0 where there is nothing to count."""
    counts: Counter = Counter()
    for i, eg in enumerate(examples):
        if [t.text for t in eg.predicted] != [t.text for t in eg.reference]:
            raise ValueError(
                f"Example {i} ('{eg.reference.text[:50]}'): the predicted doc's tokens differ from "
                "the reference's; run the pipeline on docs with the gold tokens."
            )
        gold, pred = offsets(eg.reference), offsets(eg.predicted)
        for side, ents, other in (("gold", gold, pred), ("pred", pred, gold)):
            for key, ent in ents.items():
                counts[novelty(ent, seen), f"n_{side}"] += 1
                counts[novelty(ent, seen), f"tp_{side}"] += key in other
    scores: Dict[str, Any] = {group: prf(counts, group) for group in GROUPS}
    scores["unseen_share"] = ratio(
        counts["unseen", "n_gold"], counts["seen", "n_gold"] + counts["unseen", "n_gold"]
    )
    return scores


def offsets(doc: Doc) -> Dict[Tuple[int, int, str], Span]:
    return {(ent.start, ent.end, ent.label_): ent for ent in doc.ents}


def novelty(ent: Span, seen: Set[Tuple[str, str]]) -> str:
    return "seen" if (ent.text.lower(), ent.label_) in seen else "unseen"


def prf(counts: Counter, group: str) -> Dict[str, Any]:
    p = ratio(counts[group, "tp_pred"], counts[group, "n_pred"])
    r = ratio(counts[group, "tp_gold"], counts[group, "n_gold"])
    n_gold, n_pred = counts[group, "n_gold"], counts[group, "n_pred"]
    return {"p": p, "r": r, "f": ratio(2 * p * r, p + r), "n_gold": n_gold, "n_pred": n_pred}


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def evaluate_novelty(
    model_path: Path, train_path: Path, test_path: Path, batch_size: int = 256, n_sents: int = 1
) -> Dict[str, Any]:
    """`score_by_novelty` of the pipeline at `model_path` on the test DocBin's
    sentences joined `n_sents` at a time, run on their gold tokens, with the overall
    `ents_p/r/f` beside it."""
    nlp = spacy.load(model_path)
    seen = training_mentions(DocBin().from_disk(train_path).get_docs(nlp.vocab))
    return score_pipeline(nlp, seen, test_path, n_sents, batch_size)


def score_pipeline(
    nlp: Language,
    seen: Set[Tuple[str, str]],
    test_path: Path,
    n_sents: int = 1,
    batch_size: int = 256,
) -> Dict[str, Any]:
    """`evaluate_novelty` of a loaded pipeline and the training split's `seen` mentions."""
    gold = list(read_documents(test_path, nlp.vocab, n_sents))
    words = (
        Doc(nlp.vocab, words=[t.text for t in ref], spaces=[bool(t.whitespace_) for t in ref])
        for ref in gold
    )
    examples = [
        Example(pred, ref) for pred, ref in zip(nlp.pipe(words, batch_size=batch_size), gold)
    ]
    overall = Scorer.score_spans(examples, "ents")
    return {
        key: overall[key] for key in ("ents_p", "ents_r", "ents_f", "ents_per_type")
    } | score_by_novelty(examples, seen)


def markdown(scores: Dict[str, Any]) -> str:
    """The table: share of the gold mentions, P, R, F1 of all, seen and unseen mentions."""
    n_gold = sum(scores[g]["n_gold"] for g in GROUPS)
    rows = [("all", 1.0, scores["ents_p"], scores["ents_r"], scores["ents_f"])]
    rows += [
        (g, ratio(scores[g]["n_gold"], n_gold), scores[g]["p"], scores[g]["r"], scores[g]["f"])
        for g in GROUPS
    ]
    lines = ["| mentions | share | P | R | F1 |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [
        f"| {name} | {s:.1%} | {score(p)} | {score(r)} | {score(f)} |" for name, s, p, r, f in rows
    ]
    return "\n".join(lines) + "\n"


@app.command()
def generalisation_cli(
    model: Path = typer.Argument(..., help="trained pipeline"),
    train: Path = typer.Argument(..., help="training DocBin: the mentions seen"),
    test: Path = typer.Argument(..., help="test DocBin, scored on its gold tokens"),
    output: Optional[Path] = typer.Option(None, "--output", help="write the scores here as JSON"),
    batch_size: int = typer.Option(256, "--batch-size", help="nlp.pipe batch size"),
    n_sents: int = typer.Option(
        1, "--n-sents", help="consecutive test sentences a doc; 0: the docs as they are"
    ),
) -> None:
    """Entity P/R/F of the test mentions seen and unseen in training."""
    scores = evaluate_novelty(model, train, test, batch_size, n_sents)
    print(markdown(scores))
    if output is not None:
        output.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    app()
