"""Teaching a trained lstm_ner a new entity type, as the README's "Adding entity types" does.

    python -m benchmarks.add_label --config configs/bilstm.cfg --corpus corpus --label tim
        [--base-steps 4000 | --base MODEL] [--tune-steps 1000] [--seed 0] [--output metrics]

1. Trains the config (`spacy train`) on the training split with every `--label` entity
   removed, so that the base pipeline has never heard of the type.
2. Adds the label to its lstm_ner and fine-tunes with `nlp.resume_training()` and
   `nlp.update` on a mix of new and old examples: every training doc with a `--label`
   entity, annotated with all types, and as many training docs without one.
3. Scores the pipeline on the test split's gold tokens before and after: entity P/R/F of
   the old types (every type but `--label`, on both sides) and of the new type.

Writes `add_label.json` and `add_label.md` in `--output`; trained pipelines go to `--workdir`.
"""

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import spacy
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import minibatch

from benchmarks.train import spacy_train


def without_label(doc: Doc, label: str) -> Doc:
    """A copy of `doc` whose `label` entities are gone (their tokens outside any entity)."""
    copy = doc.copy()
    copy.set_ents([ent for ent in doc.ents if ent.label_ != label], default="outside")
    return copy


def has_label(doc: Doc, label: str) -> bool:
    return any(ent.label_ == label for ent in doc.ents)


def bare(doc: Doc) -> Doc:
    """The doc's tokens, without annotation."""
    return Doc(
        doc.vocab,
        words=[token.text for token in doc],
        spaces=[bool(token.whitespace_) for token in doc],
    )


def tuning_mix(docs: List[Doc], label: str, seed: int = 0) -> List[Doc]:
    """Every doc with a `label` entity and as many docs without one, shuffled."""
    new = [doc for doc in docs if has_label(doc, label)]
    old = [doc for doc in docs if not has_label(doc, label)]
    rng = random.Random(seed)
    mix = new + rng.sample(old, min(len(old), len(new)))
    rng.shuffle(mix)
    return mix


def score_types(nlp: Language, docs: List[Doc], label: str) -> Dict[str, Any]:
    """Entity P/R/F of the old types (all but `label`) and of `label`, on the docs' gold tokens."""
    predicted = list(nlp.pipe(bare(doc) for doc in docs))
    examples = [Example(pred, gold) for pred, gold in zip(predicted, docs)]
    old = [
        Example(without_label(eg.predicted, label), without_label(eg.reference, label))
        for eg in examples
    ]
    old_scores = Scorer.score_spans(old, "ents")
    new_scores = (Scorer.score_spans(examples, "ents")["ents_per_type"] or {}).get(
        label, {"p": 0.0, "r": 0.0, "f": 0.0}
    )
    return {
        "old": {key: round(old_scores[f"ents_{key}"], 4) for key in "prf"},
        "new": {key: round(new_scores[key], 4) for key in "prf"},
    }


def fine_tune(
    nlp: Language,
    docs: Iterable[Doc],
    label: str,
    *,
    steps: int,
    batch_size: int,
    drop: float,
    seed: int = 0,
) -> Dict[str, float]:
    """Add `label` to the pipeline's lstm_ner and update it `steps` times on
    batches of `docs` (annotated with every type), epoch after epoch; the last loss."""
    nlp.get_pipe("lstm_ner").add_label(label)
    examples = [Example(bare(doc), doc) for doc in docs]
    optimizer = nlp.resume_training()
    rng = random.Random(seed)
    losses: Dict[str, float] = {}
    step = 0
    while step < steps:
        rng.shuffle(examples)
        for batch in minibatch(examples, batch_size):
            losses = {}
            nlp.update(batch, sgd=optimizer, drop=drop, losses=losses)
            step += 1
            if step == steps:
                break
    return losses


def add_label_run(
    nlp: Language,
    train: List[Doc],
    test: List[Doc],
    label: str,
    *,
    steps: int,
    batch_size: int,
    drop: float,
    seed: int = 0,
) -> Dict[str, Any]:
    """Scores of a base pipeline that lacks `label`, then of the same pipeline fine-tuned on it."""
    before = score_types(nlp, test, label)
    mix = tuning_mix(train, label, seed)
    start = time.perf_counter()
    fine_tune(nlp, mix, label, steps=steps, batch_size=batch_size, drop=drop, seed=seed)
    seconds = time.perf_counter() - start
    after = score_types(nlp, test, label)
    return {
        "before": before,
        "after": after,
        "tune_examples": len(mix),
        "tune_steps": steps,
        "tune_seconds": round(seconds, 1),
    }


def train_base(
    config: Path, corpus: Path, label: str, workdir: Path, base_steps: Optional[int], seed: int
) -> Path:
    """`spacy train` on the train and dev splits without `label`; the model-best directory."""
    workdir.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    for split in ("train", "dev"):
        docs = DocBin().from_disk(corpus / f"{split}.spacy").get_docs(nlp.vocab)
        DocBin(docs=[without_label(doc, label) for doc in docs]).to_disk(
            workdir / f"{split}_without_{label}.spacy"
        )
    overrides = [
        "--paths.train",
        str(workdir / f"train_without_{label}.spacy"),
        "--paths.dev",
        str(workdir / f"dev_without_{label}.spacy"),
        "--system.seed",
        str(seed),
    ]
    if base_steps is not None:
        overrides += ["--training.max_steps", str(base_steps)]
    spacy_train(config, workdir / "base", threads=0, log=workdir / "base.log", overrides=overrides)
    return workdir / "base" / "model-best"


def markdown(result: Dict[str, Any]) -> str:
    label = result["label"]
    rows = [
        f"# Adding the type `{label}` to a trained lstm_ner",
        "",
        f"Base: `{result['config']}` trained without `{label}` ({result['base_steps']} steps); "
        f"fine-tuned {result['tune_steps']} steps on {result['tune_examples']} examples "
        f"(every training doc with `{label}` and as many without), {result['tune_seconds']} s. "
        "Test split, gold tokens.",
        "",
        "| | old types P | R | F | new type P | R | F |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for when in ("before", "after"):
        old, new = result[when]["old"], result[when]["new"]
        rows.append(
            f"| {when} | {old['p']:.3f} | {old['r']:.3f} | {old['f']:.3f} | {new['p']:.3f} | {new['r']:.3f} | {new['f']:.3f} |"
        )
    return "\n".join(rows) + "\n"


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=Path("configs/bilstm.cfg"))
    parser.add_argument(
        "--corpus", type=Path, default=Path("corpus"), help="dir with train, dev and test .spacy"
    )
    parser.add_argument(
        "--label", default="tim", help="the entity type the base pipeline never sees"
    )
    parser.add_argument(
        "--base-steps", type=int, help="training steps of the base (default: the config's)"
    )
    parser.add_argument(
        "--base",
        type=Path,
        help="a base pipeline trained without --label by an earlier run: skip step 1",
    )
    parser.add_argument("--tune-steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("training/add_label"))
    parser.add_argument("--output", type=Path, default=Path("metrics"))
    args = parser.parse_args(argv)
    base = args.base or train_base(
        args.config, args.corpus, args.label, args.workdir, args.base_steps, args.seed
    )
    nlp = spacy.load(base)
    training = nlp.config["training"]
    train = list(DocBin().from_disk(args.corpus / "train.spacy").get_docs(nlp.vocab))
    test = list(DocBin().from_disk(args.corpus / "test.spacy").get_docs(nlp.vocab))
    result = add_label_run(
        nlp,
        train,
        test,
        args.label,
        steps=args.tune_steps,
        batch_size=training["batcher"]["size"],
        drop=training["dropout"],
        seed=args.seed,
    )
    result.update(
        label=args.label,
        config=str(args.config),
        seed=args.seed,
        base_steps=args.base_steps or training["max_steps"],
    )
    nlp.to_disk(args.workdir / "tuned")
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "add_label.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.output / "add_label.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
