"""Choosing what to annotate next. `select` streams texts through a pipeline,
ranks them by how unsure its lstm_ner component is (`uncertainty.py`) and
keeps the top N, or N at random; `to_task` writes each as a JSON line that
annotation tools read, and `read_annotations` turns the annotated lines back
into docs for `spacy train`. Memory stays that of one batch and N texts."""

import heapq
import random
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import minibatch

from .uncertainty import STRATEGIES, Uncertainty

Text = Union[str, Doc]


class BadLine(NamedTuple):
    """An input line that cannot be read: it is skipped, the others are kept."""

    path: Path
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}: {self.problem}"


class Source(NamedTuple):
    """A text and where it was read: a line of a .txt or .jsonl file, or a doc's
    index in a .spacy file."""

    text: Text
    where: str


class Selected(NamedTuple):
    """A chosen text, annotated by the pipeline, and why it was chosen."""

    doc: Doc
    where: str
    uncertainty: Uncertainty
    score: float


def read_texts(path: Path, text_key: str = "text") -> Iterator[Union[Source, BadLine]]:
    """The texts of a .txt file (one a line), a .jsonl file (`text_key` of each
    line) or a .spacy file (its docs), in order; a line that cannot be read
    comes as a `BadLine`."""
    path = Path(path)
    if path.suffix == ".spacy":
        for i, doc in enumerate(DocBin().from_disk(path).get_docs(Language().vocab)):
            yield Source(doc, f"{path}#{i}")
        return
    if path.suffix == ".jsonl":
        for number, entry in _json_lines(path):
            if isinstance(entry, BadLine):
                yield entry
            elif not isinstance(entry.get(text_key), str):
                yield BadLine(path, number, f"no string under '{text_key}'")
            else:
                yield Source(entry[text_key], f"{path}:{number}")
        return
    for number, line in _lines(path):
        yield line if isinstance(line, BadLine) else Source(line, f"{path}:{number}")


def _lines(path: Path) -> Iterator[Tuple[int, Union[str, BadLine]]]:
    """(number, line) of each non-empty line of `path`, stripped; a `BadLine`
    for one that is not UTF-8."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf8").strip()
            except UnicodeDecodeError as error:
                yield number, BadLine(path, number, f"not valid UTF-8 ({error.reason})")
                continue
            if line:
                yield number, line


def _json_lines(path: Path) -> Iterator[Tuple[int, Union[dict, BadLine]]]:
    """(number, object) of each non-empty line of a .jsonl file; a `BadLine`
    for one that is not a JSON object."""
    for number, line in _lines(path):
        if isinstance(line, BadLine):
            yield number, line
            continue
        try:
            entry = srsly.json_loads(line)
        except ValueError as error:
            yield number, BadLine(path, number, f"not valid JSON ({error}): {line[:80]!r}")
            continue
        if not isinstance(entry, dict):
            yield number, BadLine(path, number, f"not a JSON object: {line[:80]!r}")
            continue
        yield number, entry


def count_texts(path: Path) -> Optional[int]:
    """About how many texts `read_texts(path)` gives (its non-empty lines or
    docs), for a progress bar."""
    path = Path(path)
    if path.suffix == ".spacy":
        return len(DocBin().from_disk(path))
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def select(
    nlp: Language,
    sources: Iterable[Union[Source, BadLine]],
    n: int,
    *,
    strategy: str = "mnlp",
    component: str = "lstm_ner",
    batch_size: int = 256,
    seed: int = 0,
    on_bad_line: Callable[[BadLine], None] = lambda bad: None,
    on_text: Callable[[], None] = lambda: None,
) -> List[Selected]:
    """The `n` texts of `sources` the `component` is least sure of, most unsure
    first ("mnlp", "entity"), or `n` drawn uniformly with `seed` ("random"),
    in input order. Each is annotated by the pipeline up to `component`."""
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")
    if n < 1:
        raise ValueError(f"select needs n >= 1 texts to choose, got {n}.")
    if component not in nlp.pipe_names:
        raise ValueError(f"The pipeline has no component {component!r}: it has {nlp.pipe_names}.")

    def readable() -> Iterator[Source]:
        for item in sources:
            if isinstance(item, BadLine):
                on_bad_line(item)
            else:
                on_text()
                yield item

    if strategy == "random":
        chosen = [source for _, source in sorted(_reservoir(readable(), n, random.Random(seed)))]
        return [
            selected
            for batch in minibatch(chosen, batch_size)
            for selected in _annotated(nlp, batch, component, batch_size)
        ]
    heap: List[Tuple[float, int, Selected]] = []
    count = 0
    for batch in minibatch(readable(), batch_size):
        for selected in _annotated(nlp, batch, component, batch_size):
            selected = selected._replace(score=selected.uncertainty.score(strategy))
            item = (selected.score, -count, selected)
            count += 1
            if len(heap) < n:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
    return [selected for *_, selected in sorted(heap, key=lambda item: item[:2], reverse=True)]


def _reservoir(items: Iterator[Source], n: int, rng: random.Random) -> List[Tuple[int, Source]]:
    """`n` of `items` drawn uniformly (Algorithm R), with their positions."""
    kept: List[Tuple[int, Source]] = []
    for i, item in enumerate(items):
        if i < n:
            kept.append((i, item))
        else:
            j = rng.randint(0, i)
            if j < n:
                kept[j] = (i, item)
    return kept


def _annotated(
    nlp: Language, sources: List[Source], component: str, batch_size: int
) -> List[Selected]:
    """The sources run through the pipeline up to `component`, with its uncertainty."""
    before = nlp.pipe_names[: nlp.pipe_names.index(component)]
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe((source.text for source in sources), batch_size=batch_size))
    ner = nlp.get_pipe(component)
    predictions, found = ner.predict_uncertainty(docs)
    ner.set_annotations(docs, predictions)
    return [
        Selected(doc, source.where, uncertainty, 0.0)
        for doc, source, uncertainty in zip(docs, sources, found)
    ]


def to_task(selected: Selected, strategy: str, spans_key: str) -> dict:
    """A JSON line for annotation tools: the text, the predicted entities as
    character offsets (token offsets inclusive, as Prodigy writes them) with
    their probabilities where the component scores them, and why it was chosen."""
    doc = selected.doc
    scores = {}
    if spans_key in doc.spans and "scores" in doc.spans[spans_key].attrs:
        group = doc.spans[spans_key]
        scores = {
            (span.start, span.end, span.label_): float(score)
            for span, score in zip(group, group.attrs["scores"])
        }
    spans = []
    for ent in doc.ents:
        span = {
            "start": ent.start_char,
            "end": ent.end_char,
            "token_start": ent.start,
            "token_end": ent.end - 1,
            "label": ent.label_,
        }
        score = scores.get((ent.start, ent.end, ent.label_))
        if score is not None:
            span["score"] = round(score, 6)
        spans.append(span)
    uncertainty = selected.uncertainty
    meta = {
        "strategy": strategy,
        "score": round(selected.score, 6),
        "mnlp": round(uncertainty.mnlp, 6),
        "expected_errors": round(uncertainty.expected_errors, 6),
        "tokens": uncertainty.n_tokens,
        "source": selected.where,
    }
    return {"text": doc.text, "spans": spans, "meta": meta}


SKIPPED_ANSWERS = ("reject", "ignore")


def read_annotations(nlp: Language, path: Path) -> Iterator[Union[Doc, BadLine]]:
    """A doc for each annotated JSON line of `path`: its "text" tokenized by
    `nlp`, its "spans" (character offsets and label) as `doc.ents`, every
    other token outside any entity. Lines whose "answer" is "reject" or
    "ignore" are skipped; a line that cannot be read comes as a `BadLine`."""
    path = Path(path)
    for number, entry in _json_lines(path):
        if isinstance(entry, BadLine):
            yield entry
        elif entry.get("answer") not in SKIPPED_ANSWERS:
            doc = _annotated_doc(nlp, entry)
            yield BadLine(path, number, doc) if isinstance(doc, str) else doc


def _annotated_doc(nlp: Language, entry: dict) -> Union[Doc, str]:
    """The doc of one annotated line, or what is wrong with the line."""
    text = entry.get("text")
    if not isinstance(text, str):
        return "no string under 'text'"
    doc = nlp.make_doc(text)
    ents = []
    for span in entry.get("spans") or []:
        try:
            start, end, label = int(span["start"]), int(span["end"]), str(span["label"])
        except (KeyError, TypeError, ValueError):
            return f"a span without integer 'start' and 'end' and a 'label': {span!r}"
        ent = doc.char_span(start, end, label=label)
        if ent is None:
            return (
                f"the span {start}-{end} {text[start:end]!r} ({label}) does not fall on "
                "token boundaries"
            )
        ents.append(ent)
    try:
        doc.set_ents(ents, default="outside")
    except ValueError as error:
        return f"its spans overlap: {error}"
    return doc
