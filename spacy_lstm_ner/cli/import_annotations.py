"""`python -m spacy_lstm_ner import ANNOTATIONS OUTPUT (--model MODEL | --lang en)`:
turn annotated JSONL back into a DocBin for `spacy train` with
`spacy_lstm_ner.selection.read_annotations`."""

from pathlib import Path
from typing import Optional

import spacy
import typer
from spacy.tokens import DocBin
from wasabi import msg

from ..selection import BadLine, read_annotations
from .app import app


@app.command("import")
def import_cli(
    annotations: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Annotated .jsonl: 'text' and 'spans' a line"
    ),
    output: Path = typer.Argument(..., dir_okay=False, help="The .spacy file to write"),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Pipeline whose tokenizer to use (that of the trained model)"
    ),
    lang: Optional[str] = typer.Option(
        None, "--lang", "-l", help="Language of a blank tokenizer, without --model"
    ),
) -> None:
    """Write the annotated texts of ANNOTATIONS as docs with entities to OUTPUT.
    Every token outside the 'spans' is annotated as outside any entity; lines
    answered 'reject' or 'ignore' are skipped."""
    if (model is None) == (lang is None):
        msg.fail("Give the tokenizer: --model MODEL or --lang LANG, one of them.", exits=1)
    nlp = spacy.load(model) if model is not None else spacy.blank(lang)
    docbin, bad_lines = DocBin(), 0
    for item in read_annotations(nlp, annotations):
        if isinstance(item, BadLine):
            bad_lines += 1
            msg.warn(f"Skipped {item}")
        else:
            docbin.add(item)
    docbin.to_disk(output)
    n_ents = sum(len(doc.ents) for doc in docbin.get_docs(nlp.vocab))
    msg.good(f"Wrote {len(docbin):,} docs with {n_ents:,} entities to {output}")
    if bad_lines:
        msg.warn(f"Skipped {bad_lines:,} lines that could not be read (listed above).")
