"""The input documents of `apply`, found and read exactly as `spacy apply` reads them.

A file or a directory (searched recursively, names starting with `.` skipped):
`.spacy` files give their docs, `.jsonl` files the text under the key of each line,
and every other file is one document. The `.spacy` and `.jsonl` files come in path
order, followed by the other files in path order: the order of `spacy apply`.

Reading checks what `spacy apply` would only fail on later, or not at all, and raises
`InputError` naming the file and line: a line that is not JSON, is not an object, or
lacks the key or has no string under it, text that is not UTF-8, a file that cannot
be read.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import List, NamedTuple, Optional, Union

import srsly
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .docbin import docbin_docs

# Undecodable bytes read with errors="surrogateescape"; valid UTF-8 never gives these.
NOT_UTF8 = re.compile("[\udc80-\udcff]")


class InputError(ValueError):
    """Input `apply` cannot read; the message names the file and line."""


class Item(NamedTuple):
    """One input document: its text, or its Doc for `.spacy` input, and where it was
    read: the line of a `.jsonl` file, the index of a doc in a `.spacy` file, or
    None for a file that is one document; for a Doc, the attributes its file stores."""

    value: Union[str, Doc]
    path: Path
    position: Optional[int]
    attrs: Optional[List[int]] = None


def find_inputs(data_path: Path) -> List[Path]:
    """The files under `data_path` in the order `spacy apply` reads them."""
    paths = _files_under(Path(data_path))
    streamed = [path for path in paths if path.suffix in (".spacy", ".jsonl")]
    return streamed + [path for path in paths if path.suffix not in (".spacy", ".jsonl")]


def describe_inputs(paths: List[Path]) -> List[dict]:
    """Path, size and modification time of each input, to tell a rerun on the
    same inputs from one on others."""
    described = []
    for path in paths:
        stat = _stat(path)
        described.append(
            {"path": str(path.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        )
    return described


def read_items(paths: List[Path], text_key: str = "text") -> Iterator[Item]:
    """Every input document of `paths`, in order."""
    for path in paths:
        if path.suffix == ".spacy":
            yield from _read_docbin(path)
        elif path.suffix == ".jsonl":
            yield from _read_jsonl(path, text_key)
        else:
            yield Item(_read_text(path), path, None)


def count_docs(paths: List[Path]) -> int:
    """How many documents `read_items(paths)` gives, without checking them."""
    total = 0
    for path in paths:
        if path.suffix == ".spacy":
            total += len(_load_docbin(path))
        elif path.suffix == ".jsonl":
            with _open(path, "rb") as lines:
                total += sum(1 for line in lines if line.strip())
        else:
            total += 1
    return total


def _files_under(path: Path) -> List[Path]:
    """`path` if it is not a directory, else the files under it in path order,
    names starting with `.` skipped: the files `spacy apply` finds."""
    if not path.is_dir():
        return [path]
    files, directories = [], [path]
    while directories:
        directory = directories.pop()
        try:
            entries = list(directory.iterdir())
        except OSError as error:
            raise InputError(f"{directory}: cannot read it: {error.strerror or error}") from error
        for entry in entries:
            if not entry.name.startswith("."):
                (directories if entry.is_dir() else files).append(entry)
    return sorted(files)


def _read_docbin(path: Path) -> Iterator[Item]:
    docbin = _load_docbin(path)
    for i, doc in enumerate(docbin_docs(docbin, Vocab())):
        yield Item(doc, path, i, list(docbin.attrs))


def _load_docbin(path: Path) -> DocBin:
    try:
        return DocBin().from_disk(path)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read it as a .spacy file: {error}") from error


def _read_jsonl(path: Path, text_key: str) -> Iterator[Item]:
    # Text mode with universal newlines, as srsly.read_jsonl reads: the same lines.
    with _open(path, "r", encoding="utf8", errors="surrogateescape") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            _check_utf8(line, path, number)
            try:
                entry = srsly.json_loads(line)
            except ValueError as error:
                _fail(path, number, f"not valid JSON ({error}): {line[:80]!r}")
            if not isinstance(entry, dict) or text_key not in entry:
                _fail(path, number, f"no '{text_key}' key (set another with --text-key)")
            if not isinstance(entry[text_key], str):
                _fail(
                    path,
                    number,
                    f"'{text_key}' is a {type(entry[text_key]).__name__}, not a string",
                )
            yield Item(entry[text_key], path, number)


def _read_text(path: Path) -> str:
    with _open(path, "r", encoding="utf8", errors="surrogateescape") as file:
        text = file.read()
    _check_utf8(text, path, 1)
    return text


def _check_utf8(text: str, path: Path, first_line: int) -> None:
    bad = NOT_UTF8.search(text)
    if bad is not None:
        byte = bad.group().encode("utf8", errors="surrogateescape")
        line = first_line + text.count("\n", 0, bad.start())
        _fail(path, line, f"byte {byte!r} is not valid UTF-8")


def _open(path: Path, mode: str, **kwargs):
    try:
        return path.open(mode, **kwargs)
    except OSError as error:
        raise InputError(f"{path}: cannot read it: {error.strerror or error}") from error


def _stat(path: Path):
    try:
        return path.stat()
    except OSError as error:
        raise InputError(f"{path}: cannot read it: {error.strerror or error}") from error


def _fail(path: Path, line: int, problem: str):
    raise InputError(f"{path}, line {line}: {problem}")
