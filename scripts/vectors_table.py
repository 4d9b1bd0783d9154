"""Make the static vectors table from the archive `scripts/pack_vectors.py`
writes: a pipeline directory, as `spacy init vectors` makes one, whose words'
Title and UPPER forms share their rows (see `scripts/case_keys.py`).

    python scripts/vectors_table.py assets/glove/glove.6B.50d.int8.npz corpus/vectors --name glove.6B.50d
"""

from pathlib import Path

import numpy
import spacy
import typer
from case_keys import add_case_keys
from spacy.vectors import Vectors
from wasabi import msg


def main(
    archive: Path = typer.Argument(..., help="Archive of pack_vectors.py", exists=True),
    output_dir: Path = typer.Argument(..., help="Pipeline directory to write"),
    name: str = typer.Option(
        ..., "--name", help="Name of the vectors table, as in spacy init vectors"
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the blank pipeline"),
) -> None:
    """Write a blank pipeline holding the archive's vectors table, case forms added."""
    with numpy.load(archive) as packed:
        words = packed["words"].tobytes().decode("utf8").split("\n")
        data = packed["codes"].astype("float32") * packed["scale"]
    if len(words) != len(data):
        msg.fail(f"{archive} holds {len(words):,} words but {len(data):,} vectors", exits=1)
    nlp = spacy.blank(lang)
    keys = [nlp.vocab.strings.add(word) for word in words]
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=keys, name=name)
    added = add_case_keys(nlp.vocab.vectors, nlp.vocab.strings)
    nlp.to_disk(output_dir)
    msg.good(
        f"Wrote {len(words):,} vectors of width {data.shape[1]} ({added:,} case forms) to {output_dir}."
    )


if __name__ == "__main__":
    typer.run(main)
