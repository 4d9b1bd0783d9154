"""Mark the articles of a CoNLL-2003 file for `spacy convert`: the project's
`conll-articles` command.

    python scripts/conll_articles.py INPUT OUTPUT

Copies INPUT (plain or gzipped; `word ... TAG` a line, a blank line between
sentences) to OUTPUT with spaCy's document delimiter `-DOCSTART- -X- O O` before
each article, so that `spacy convert --converter ner --n-sents 0` makes one `Doc`
an article. The `-DOCSTART-` lines of the original files become that delimiter. A
copy without them gets one before the headline of each Reuters dateline: a
dateline is a sentence of at most `--dateline-tokens` tokens ending in a date
(`BRUSSELS 1996-08-22`); its headline is the sentence before it, or the one before
that where a byline without a final full stop stands between (`Peter Blackburn`).
An article without a dateline (some sports results) stays with the one before it.
"""

import gzip
import re
from pathlib import Path
from typing import BinaryIO, Iterator, List

import typer
from wasabi import msg

DELIMITER = "-DOCSTART- -X- O O"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Sentence = List[str]


def read_sentences(path: Path) -> Iterator[Sentence]:
    """The lines of each sentence of a CoNLL file, `-DOCSTART-` lines as sentences
    of their own."""
    opener = gzip.open if path.suffix == ".gz" else open
    lines: Sentence = []
    with opener(path, "rb") as file:
        for line in utf8_lines(file, path):
            line = line.strip()
            if line.startswith("-DOCSTART-"):
                if lines:
                    yield lines
                yield [line]
                lines = []
            elif line:
                lines.append(line)
            elif lines:
                yield lines
                lines = []
    if lines:
        yield lines


def utf8_lines(file: BinaryIO, path: Path) -> Iterator[str]:
    """The lines of `file`, or an error naming `path` and the line that is not UTF-8."""
    for number, line in enumerate(file, start=1):
        try:
            yield line.decode("utf8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}, line {number}: not UTF-8 text ({error.reason})") from None


def words(sentence: Sentence) -> List[str]:
    return [line.split()[0] for line in sentence]


def is_dateline(sentence: Sentence, max_tokens: int) -> bool:
    return len(sentence) <= max_tokens and DATE.fullmatch(words(sentence)[-1]) is not None


def article_starts(sentences: List[Sentence], max_tokens: int = 10) -> List[int]:
    """The indices of the sentences that open an article: the first, and the
    headline of every dateline."""
    starts = {0}
    for i, sentence in enumerate(sentences):
        if i < 1 or not is_dateline(sentence, max_tokens):
            continue
        headline = i - 1
        if words(sentences[headline])[-1] != "." and i >= 2:
            headline = i - 2
        starts.add(headline)
    return sorted(starts)


def articles(sentences: List[Sentence], max_tokens: int = 10) -> List[List[Sentence]]:
    """The sentences grouped by article: at the file's `-DOCSTART-` lines where it
    has them, else at its datelines."""
    if any(sentence[0].startswith("-DOCSTART-") for sentence in sentences):
        groups: List[List[Sentence]] = []
        for sentence in sentences:
            if sentence[0].startswith("-DOCSTART-"):
                groups.append([])
            elif groups:
                groups[-1].append(sentence)
            else:
                groups.append([sentence])
        return [group for group in groups if group]
    starts = article_starts(sentences, max_tokens)
    ends = starts[1:] + [len(sentences)]
    return [sentences[start:end] for start, end in zip(starts, ends)]


def write_articles(groups: List[List[Sentence]], path: Path) -> None:
    with path.open("w", encoding="utf8") as file:
        for group in groups:
            file.write(DELIMITER + "\n\n")
            for sentence in group:
                file.write("\n".join(sentence) + "\n\n")


def conll_articles_cli(
    input_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CoNLL file"),
    output_path: Path = typer.Argument(..., dir_okay=False, help="CoNLL file to write"),
    dateline_tokens: int = typer.Option(10, help="most tokens of a dateline sentence"),
) -> None:
    try:
        sentences = list(read_sentences(input_path))
    except ValueError as error:
        msg.fail(str(error), exits=1)
    groups = articles(sentences, dateline_tokens)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    write_articles(groups, output_path)
    n_sentences = sum(len(group) for group in groups)
    msg.good(f"{output_path}: {len(groups)} articles, {n_sentences} sentences")


if __name__ == "__main__":
    typer.run(conll_articles_cli)
