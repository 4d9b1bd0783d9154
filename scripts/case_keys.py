"""Let the capitalised forms of a lowercased vectors table's words find their rows:
what `scripts/vectors_table.py` does for the shipped table, for a table of your own.

    python scripts/case_keys.py VECTORS_DIR

A table of lowercased words (GloVe 6B, say) made by `spacy init vectors` is looked
up by each token's ORTH, so `Iraq` and `IRAQ` find no vector. `spacy init vectors
--attr LOWER` would fix that, but spaCy 3.8 does not save the attribute of a
default-mode table: the pipeline trained on it goes back to ORTH once saved. This
adds, as spaCy's own `en_core_web_lg` does, the Title-case and UPPER-case forms of
every word as further keys of the word's row: no new rows, and nothing to
remember when the table is saved with a pipeline.
"""

from pathlib import Path

import spacy
import typer
from spacy.vectors import Vectors
from wasabi import msg


def add_case_keys(vectors: Vectors, strings) -> int:
    """Map the Title and UPPER forms of each key's string to the key's row,
    where the table has no key of its own for that form; the number added."""
    added = 0
    for key, row in list(vectors.key2row.items()):
        word = strings[key]
        for form in {word.title(), word.upper()} - {word}:
            form_key = strings.add(form)
            if form_key not in vectors:
                vectors.add(form_key, row=row)
                added += 1
    return added


def main(
    vectors_dir: Path = typer.Argument(
        ..., help="Pipeline directory made by `spacy init vectors`", exists=True, file_okay=False
    ),
) -> None:
    """Add the Title- and UPPER-case forms of every word of a vectors table as keys of its row."""
    nlp = spacy.load(vectors_dir)
    if nlp.vocab.vectors.mode != "default":
        msg.fail(
            f"{vectors_dir} holds a {nlp.vocab.vectors.mode} table; only default-mode tables have keys to add",
            exits=1,
        )
    added = add_case_keys(nlp.vocab.vectors, nlp.vocab.strings)
    nlp.to_disk(vectors_dir)
    n_rows = nlp.vocab.vectors.shape[0]
    msg.good(f"Added {added:,} case forms to the {n_rows:,} rows of {vectors_dir}.")


if __name__ == "__main__":
    typer.run(main)
