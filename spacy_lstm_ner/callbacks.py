"""The `[initialize] after_init` callbacks: resuming an interrupted `spacy train`
run from the pipeline it last saved, and the opt-in check that the dev corpus has
no entity label lstm_ner cannot predict."""

from typing import Callable, Dict, Optional

from spacy.language import Language
from spacy.training import Corpus
from spacy.util import ensure_path, registry

from .pipe import LSTMEntityRecognizer


@registry.callbacks("spacy_lstm_ner.resume_from.v1")
def make_resume_from(path: str) -> Callable[[Language], Language]:
    """An `[initialize] after_init` callback that loads every trained
    component's weights from the pipeline saved at `path`, e.g. the
    `model-last` that `spacy train` rewrites at each evaluation, so training
    goes on from there instead of from random weights."""

    def resume_from(nlp: Language) -> Language:
        source = ensure_path(path)
        for name, component in nlp.pipeline:
            if not hasattr(component, "model"):
                continue
            saved = source / name
            if not saved.is_dir():
                raise ValueError(
                    f"Cannot resume {name!r} from {source}: {saved} is missing. "
                    "Give the path of a pipeline saved by `spacy train` "
                    "(its model-last or model-best directory)."
                )
            component.from_disk(saved, exclude=["vocab"])
        return nlp

    return resume_from


@registry.callbacks("spacy_lstm_ner.check_dev_labels.v1")
def make_check_dev_labels(path: Optional[str]) -> Callable[[Language], Language]:
    """An `[initialize] after_init` callback: refuse to train when the corpus
    at `path` (the dev corpus `spacy train` scores on, `${paths.dev}`) has
    entity labels that an lstm_ner component of the pipeline will never
    predict. With `path` null, or no file there (a pipeline initialized
    outside `spacy train`, which itself refuses a missing dev corpus), it
    checks nothing."""

    def check_dev_labels(nlp: Language) -> Language:
        source = ensure_path(path)
        if source is None or not source.exists():
            return nlp
        components = [
            (name, pipe) for name, pipe in nlp.pipeline if isinstance(pipe, LSTMEntityRecognizer)
        ]
        if not components:
            return nlp
        first_seen: Dict[str, str] = {}
        for eg in Corpus(source)(nlp):
            for ent in eg.reference.ents:
                first_seen.setdefault(ent.label_, eg.reference.text[:60])
        for name, component in components:
            unknown = {
                label: text for label, text in first_seen.items() if label not in component.labels
            }
            if unknown:
                found = "; ".join(f"{label!r} in {text!r}" for label, text in unknown.items())
                raise ValueError(
                    f"The dev corpus {source} has entity labels that {name}'s training "
                    f"data lacks, so it could never predict them: {found}. Add "
                    f"training examples, or list every label in "
                    f"[initialize.components.{name}] labels."
                )
        return nlp

    return check_dev_labels
