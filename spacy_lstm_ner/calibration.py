"""Calibration of entity probabilities: the expected calibration error that
measures it, the temperature fit that improves it, and the fit of a trained
pipeline's component on a held-out corpus."""

import math
from pathlib import Path
from typing import Callable, Dict, List, Tuple, Union

import numpy
from spacy.language import Language
from spacy.training import Corpus, Example

from .confidence import score_entities
from .decoding import BestPaths

DEFAULT_BINS = 15


class NothingToCalibrate(ValueError):
    """The model predicts no entity in the data given."""


def calibration_error(
    scores: numpy.ndarray, correct: numpy.ndarray, n_bins: int = DEFAULT_BINS
) -> float:
    """Expected calibration error: over `n_bins` equal-width bins of the
    scores, the gap between mean score and share correct, weighted by the
    bin's share of the predictions."""
    return sum(
        abs(b["mean_score"] - b["accuracy"]) * b["count"]
        for b in reliability(scores, correct, n_bins)
    ) / max(len(scores), 1)


def reliability(
    scores: numpy.ndarray, correct: numpy.ndarray, n_bins: int = DEFAULT_BINS
) -> List[Dict[str, float]]:
    """Count, mean score and share correct of each non-empty equal-width bin."""
    scores, correct = numpy.asarray(scores, dtype="float64"), numpy.asarray(correct, dtype=bool)
    bins = numpy.minimum((scores * n_bins).astype(int), n_bins - 1)
    return [
        {
            "low": b / n_bins,
            "high": (b + 1) / n_bins,
            "count": int((bins == b).sum()),
            "mean_score": float(scores[bins == b].mean()),
            "accuracy": float(correct[bins == b].mean()),
        }
        for b in range(n_bins)
        if (bins == b).any()
    ]


def fit_temperature(
    probabilities: Callable[[float], numpy.ndarray],
    correct: numpy.ndarray,
    bounds: tuple = (0.05, 20.0),
    n_steps: int = 40,
) -> float:
    """The temperature in `bounds` that minimizes the log-loss of `correct`
    under `probabilities(temperature)`: a golden-section search over its log."""
    correct = numpy.asarray(correct, dtype=bool)

    def log_loss(log_temperature: float) -> float:
        p = numpy.clip(probabilities(math.exp(log_temperature)), 1e-12, 1 - 1e-12)
        return float(-numpy.where(correct, numpy.log(p), numpy.log1p(-p)).mean())

    low, high = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = log_loss(a), log_loss(b)
    for _ in range(n_steps):
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = log_loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = log_loss(b)
    return math.exp((low + high) / 2)


def fit_entity_temperature(
    batches: List[Tuple[List[Example], BestPaths]],
    temperature: float,
    no_entity: str,
) -> Dict[str, float]:
    """The temperature that minimizes the log-loss of "this predicted entity
    is right" (same start, end and label as a reference entity) over batches
    of (examples, their best paths), the entities' probabilities read off the
    paths' potentials at each temperature tried; the number of entities and the expected calibration error at `temperature` and at the
    fitted one. Raises NothingToCalibrate, saying `no_entity`, when there is no entity."""
    correct = [
        right
        for examples, paths in batches
        for example, entities in zip(examples, paths.entities)
        for right in are_references(example, entities)
    ]
    if not correct:
        raise NothingToCalibrate(f"{no_entity}: nothing to calibrate on.")

    def probabilities(value: float) -> numpy.ndarray:
        return numpy.concatenate([entity_probabilities(paths, value) for _, paths in batches])

    fitted = round(fit_temperature(probabilities, correct), 6)
    return {
        "temperature": fitted,
        "n_entities": len(correct),
        "ece_before": calibration_error(probabilities(temperature), correct),
        "ece_after": calibration_error(probabilities(fitted), correct),
    }


def entity_probabilities(paths: BestPaths, temperature: float) -> numpy.ndarray:
    """The probability of each entity of `paths` at `temperature`."""
    scored = score_entities(
        paths.potentials.scaled(temperature), paths.tag_ids, paths.entities, paths.tagset
    )
    return numpy.concatenate([doc_scored.scores for doc_scored in scored])


def are_references(example: Example, spans: List[Tuple[int, int, str]]) -> List[bool]:
    """Whether each predicted (start, end, label) is one of the reference's entities, by characters."""
    doc = example.predicted
    references = {(ent.start_char, ent.end_char, ent.label_) for ent in example.reference.ents}
    return [
        (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), label) in references
        for start, end, label in spans
    ]


def processed_examples(nlp: Language, examples: List[Example], name: str) -> List[Example]:
    """`examples` whose predicted docs ran through the components before `name`."""
    before = nlp.pipe_names[: nlp.pipe_names.index(name)]
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe(eg.predicted for eg in examples))
    return [Example(doc, eg.reference) for doc, eg in zip(docs, examples)]


def calibrate_pipeline(
    nlp: Language, dev_path: Union[str, Path], component: str = "lstm_ner", batch_size: int = 256
) -> Dict[str, float]:
    """Fit the temperature of `nlp`'s lstm_ner `component` on the held-out
    corpus at `dev_path` (a .spacy file), its docs run through the components
    before it first; return the component's `calibrate` result (temperature,
    n_entities, ece_before, ece_after). Raises NothingToCalibrate when the
    component predicts no entity there."""
    examples = processed_examples(nlp, list(Corpus(dev_path)(nlp)), component)
    return nlp.get_pipe(component).calibrate(examples, batch_size=batch_size)
