"""Pack a text vectors file (GloVe's format, or word2vec's with its header line;
gzipped or not) into the compact file the project ships: each dimension scaled to
8-bit integers, stored with the words in one compressed numpy archive.

    python scripts/pack_vectors.py assets/glove/glove.6B.50d.txt assets/glove/glove.6B.50d.int8.npz

`scripts/vectors_table.py` turns the archive into the table `[initialize] vectors`
loads. Scaled to 8 bits, GloVe 6B 50d's values move by 0.01 (root mean square) of
their standard deviation of 0.64: a quarter of the file that two decimals take.
"""

import gzip
from pathlib import Path
from typing import Iterator, List, Tuple

import numpy
import typer
from wasabi import msg


def read_text_vectors(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """(word, values) for each line of a GloVe or word2vec text file; a
    word2vec header line ("rows width") is skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf8") as file:
        for i, line in enumerate(file):
            word, *values = line.rstrip("\n").rstrip(" ").split(" ")
            if i == 0 and len(values) == 1:
                continue
            yield word, values


def quantize(vectors: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """int8 codes and the float32 scale per dimension: vectors ≈ codes * scale."""
    scale = numpy.abs(vectors).max(axis=0) / 127
    scale[scale == 0] = 1.0
    codes = numpy.round(vectors / scale).astype("int8")
    return codes, scale.astype("float32")


def main(
    vectors_txt: Path = typer.Argument(..., help="Text vectors file", exists=True, dir_okay=False),
    output: Path = typer.Argument(..., help="The .npz archive to write"),
) -> None:
    """Pack a text vectors file into 8-bit codes, a scale per dimension and the words."""
    words, rows = [], []
    for line_no, (word, values) in enumerate(read_text_vectors(vectors_txt), start=1):
        if rows and len(values) != len(rows[0]):
            msg.fail(
                f"{vectors_txt}: the vector of {word!r} (entry {line_no}) has {len(values)} "
                f"values, the first had {len(rows[0])}",
                exits=1,
            )
        words.append(word)
        rows.append(values)
    if not rows:
        msg.fail(f"{vectors_txt} holds no vectors", exits=1)
    codes, scale = quantize(numpy.asarray(rows, dtype="float32"))
    output.parent.mkdir(parents=True, exist_ok=True)
    numpy.savez_compressed(
        output,
        words=numpy.frombuffer("\n".join(words).encode("utf8"), dtype="uint8"),
        codes=codes,
        scale=scale,
    )
    msg.good(f"Packed {len(words):,} vectors of width {codes.shape[1]} into {output}.")


if __name__ == "__main__":
    typer.run(main)
