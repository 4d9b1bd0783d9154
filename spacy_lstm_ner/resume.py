"""Resuming an interrupted `spacy train` run from the pipeline it last saved."""
from typing import Callable

from spacy.language import Language
from spacy.util import ensure_path, registry


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
