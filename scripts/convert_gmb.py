"""Convert the GMB entity corpus (`ner_dataset.csv[.gz]`) to spaCy `.spacy` files:
the project's `convert` command.

    python scripts/convert_gmb.py INPUT OUTPUT_DIR [--splits ...] [--n-sents 10] [--encoding cp1252]

One `Doc` per sentence, or with `--n-sents N` per N consecutive sentences of a split
(as `spacy convert --n-sents` groups them), sentence starts marked: the Word column as
words, POS as `token.tag_`, and the IOB2 Tag column as `doc.ents` with the corpus' own
labels (`geo`, `per`, ...). Sentences go to splits by id range; the default is the
project's fixed split of the 47,959 sentences (the last of which the corpus cuts off
mid-sentence).
"""

import csv
import gzip
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, NoReturn, Optional, Tuple, Union

import spacy
import typer
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from wasabi import msg

from spacy_lstm_ner.corpus import join_docs

HEADER = ["Sentence #", "Word", "POS", "Tag"]
DEFAULT_SPLITS = "train:1-38367,dev:38368-43163,test:43164-47959"
PROGRESS_EVERY = 100_000
COUNTS = ("docs", "sentences", "tokens", "entities")
SENTENCE_ID = re.compile(r"Sentence: (\d+)")
TAG = re.compile(r"O|[BI]-\S+")
SPLIT = re.compile(r"(\w+):(\d+)-(\d+)")

PathLike = Union[str, Path]
Splits = Dict[str, Tuple[int, int]]


class Sentence(NamedTuple):
    """One sentence of the corpus: its id and its columns, token by token."""

    id: int
    words: List[str]
    pos: List[str]
    tags: List[str]


@dataclass
class ConversionStats:
    """Docs/tokens/entities per split, sentences outside all splits, repaired tags."""

    splits: Dict[str, Counter] = field(default_factory=dict)
    skipped: int = 0
    repairs: int = 0


def read_gmb_csv(
    path: PathLike, encoding: str = "cp1252", *, repairs: Optional[List[int]] = None
) -> Iterator[Sentence]:
    """The sentences of a GMB CSV file (gzipped if the name ends in `.gz`), in order.

    Raises ValueError naming the file and line of the first malformed row. An `I-x`
    that continues no `x` entity becomes `B-x`; once the file is read, the repaired
    lines are added to `repairs` and reported in one warning.
    """
    repaired: List[int] = []
    rows = csv.reader(_decoded_lines(path, encoding))
    _check_header(next(rows, None), path)
    sentence: Optional[Sentence] = None
    for row in rows:
        line = rows.line_num
        if len(row) != len(HEADER):
            _fail(path, line, f"expected {len(HEADER)} columns, got {len(row)}: {row!r}")
        sentence_id, word, pos, tag = row
        if sentence_id:
            new_id = _parse_sentence_id(sentence_id, path, line)
            if sentence is not None:
                if new_id <= sentence.id:
                    _fail(path, line, f"sentence id {new_id} does not follow {sentence.id}")
                yield sentence
            sentence = Sentence(new_id, [], [], [])
        elif sentence is None:
            _fail(path, line, f"the first row has no sentence id: {row!r}")
        if not word:
            _fail(path, line, f"empty word: {row!r}")
        if not TAG.fullmatch(tag):
            _fail(path, line, f"tag {tag!r} is not O, B-<type> or I-<type>")
        previous = sentence.tags[-1] if sentence.tags else "O"
        if tag[0] == "I" and tag[1:] != previous[1:]:
            tag = "B" + tag[1:]
            repaired.append(line)
        sentence.words.append(word)
        sentence.pos.append(pos)
        sentence.tags.append(tag)
    if sentence is not None:
        yield sentence
    if repairs is not None:
        repairs.extend(repaired)
    if repaired:
        _warn_repairs(path, repaired)


def sentence_to_doc(vocab: Vocab, sentence: Sentence) -> Doc:
    """A `Doc` of the sentence's words, with POS as `tag_` and its entities."""
    spaces = [True] * len(sentence.words)
    spaces[-1] = False
    return Doc(vocab, words=sentence.words, spaces=spaces, tags=sentence.pos, ents=sentence.tags)


def gmb_to_docs(
    path: PathLike, encoding: str = "cp1252", vocab: Optional[Vocab] = None
) -> Iterator[Doc]:
    """One `Doc` per sentence of a GMB CSV file, on a blank English vocab by default."""
    vocab = vocab if vocab is not None else spacy.blank("en").vocab
    for sentence in read_gmb_csv(path, encoding):
        yield sentence_to_doc(vocab, sentence)


def parse_splits(text: str) -> Splits:
    """`train:1-10,dev:11-12` -> {"train": (1, 10), "dev": (11, 12)}: disjoint id ranges."""
    splits: Splits = {}
    for item in text.split(","):
        match = SPLIT.fullmatch(item.strip())
        if match is None:
            raise ValueError(f"split {item!r} is not NAME:FIRST-LAST (in {text!r})")
        name, first, last = match[1], int(match[2]), int(match[3])
        if name in splits or first > last:
            raise ValueError(f"split {item!r} repeats a name or has FIRST > LAST")
        for other, (lo, hi) in splits.items():
            if first <= hi and lo <= last:
                raise ValueError(f"split {item!r} overlaps {other}:{lo}-{hi}")
        splits[name] = (first, last)
    return splits


def split_of(sentence_id: int, splits: Splits) -> Optional[str]:
    """The split whose id range holds `sentence_id`, or None."""
    for name, (first, last) in splits.items():
        if first <= sentence_id <= last:
            return name
    return None


def convert(
    input_path: PathLike,
    output_dir: PathLike,
    splits: str = DEFAULT_SPLITS,
    encoding: str = "cp1252",
    n_sents: int = 1,
) -> ConversionStats:
    """Write `output_dir/{split}.spacy` for each split of a GMB CSV file, `n_sents`
    consecutive sentences of a split a doc."""
    if n_sents < 1:
        raise ValueError(f"n_sents must be at least 1, got {n_sents}")
    ranges = parse_splits(splits)
    vocab = spacy.blank("en").vocab
    bins = {name: DocBin() for name in ranges}
    sentences: Dict[str, List[Doc]] = {name: [] for name in ranges}
    stats = ConversionStats({name: Counter() for name in ranges})
    repairs: List[int] = []
    rows = 0
    for sentence in read_gmb_csv(input_path, encoding, repairs=repairs):
        rows = _progress(rows, len(sentence.words))
        name = split_of(sentence.id, ranges)
        if name is None:
            stats.skipped += 1
            continue
        doc = sentence_to_doc(vocab, sentence)
        sentences[name].append(doc)
        stats.splits[name].update(sentences=1, tokens=len(doc), entities=len(doc.ents))
    for name, docbin in bins.items():
        for doc in join_docs(sentences[name], n_sents):
            docbin.add(doc)
            stats.splits[name].update(docs=1)
    stats.repairs = len(repairs)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    for name, docbin in bins.items():
        docbin.to_disk(Path(output_dir) / f"{name}.spacy")
    return stats


def _decoded_lines(path: PathLike, encoding: str) -> Iterator[str]:
    """The file's lines, line ends kept, decoded one by one so errors know their line."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        for number, raw in enumerate(file, 1):
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError as error:
                bad = raw[error.start : error.end]
                _fail(path, number, f"byte {bad!r} is not valid {encoding}: {error.reason}")


def _fail(path: PathLike, line: int, problem: str) -> NoReturn:
    raise ValueError(f"{path}, line {line}: {problem}")


def _check_header(row: Optional[List[str]], path: PathLike) -> None:
    if row != HEADER:
        _fail(path, 1, f"expected the header {','.join(HEADER)!r}, got {row!r}")


def _parse_sentence_id(value: str, path: PathLike, line: int) -> int:
    match = SENTENCE_ID.fullmatch(value)
    if match is None:
        _fail(path, line, f"sentence id {value!r} is not 'Sentence: <number>'")
    return int(match[1])


def _warn_repairs(path: PathLike, lines: List[int]) -> None:
    shown = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
    warnings.warn(
        f"{path}: repaired {len(lines)} I- tag(s) that continued no entity of their "
        f"type to B- (line {shown})",
        stacklevel=3,
    )


def _progress(rows: int, added: int) -> int:
    total = rows + added
    if total // PROGRESS_EVERY > rows // PROGRESS_EVERY:
        msg.text(f"{total // PROGRESS_EVERY * PROGRESS_EVERY:,} rows read")
    return total


def _print_summary(stats: ConversionStats, ranges: Splits, output_dir: PathLike) -> None:
    data = [
        (f"{name}.spacy", f"{first:,}-{last:,}", *(f"{counts[key]:,}" for key in COUNTS))
        for (name, (first, last)), counts in zip(ranges.items(), stats.splits.values())
    ]
    header = ("file", "sentence ids", *COUNTS)
    msg.table(data, header=header, divider=True, aligns=("l", "l", "r", "r", "r", "r"))
    msg.good(
        f"Wrote {output_dir}. Skipped {stats.skipped:,} sentences outside all splits; "
        f"repaired {stats.repairs:,} I- tags."
    )


def main(
    input_path: Path = typer.Argument(
        ..., help="GMB CSV file, .csv or .csv.gz", exists=True, dir_okay=False
    ),
    output_dir: Path = typer.Argument(..., help="Directory for the {split}.spacy files"),
    splits: str = typer.Option(
        DEFAULT_SPLITS, "--splits", help="NAME:FIRST-LAST sentence id ranges, comma-separated"
    ),
    encoding: str = typer.Option("cp1252", "--encoding", help="Text encoding of the CSV"),
    n_sents: int = typer.Option(
        1, "--n-sents", "-n", help="Consecutive sentences of a split in one doc"
    ),
) -> None:
    """Convert a GMB entity CSV to spaCy DocBin files, one per split."""
    try:
        stats = convert(input_path, output_dir, splits, encoding, n_sents)
    except ValueError as error:
        msg.fail(str(error), exits=1)
    _print_summary(stats, parse_splits(splits), output_dir)


if __name__ == "__main__":
    typer.run(main)
