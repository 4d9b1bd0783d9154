"""Documents from sentences: consecutive sentences of a corpus joined into one `Doc`,
so that a tagger reading a whole doc trains and is scored on text as users feed it."""

import random
from itertools import accumulate
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.training.corpus import walk_corpus
from spacy.vocab import Vocab


def create_document_corpus(
    path: Optional[Union[str, Path]],
    *,
    n_sents: int = 10,
    random_lengths: bool = False,
    shuffle: bool = False,
    gold_preproc: bool = False,
    limit: int = 0,
) -> Callable[[Language], Iterable[Example]]:
    """The reader `spacy_lstm_ner.DocumentCorpus.v1`: the sentences of the DocBins at
    `path` (each doc's `doc.sents` where it has sentence starts, else the doc), in
    file order, joined `n_sents` at a time into one doc. With `random_lengths`,
    each doc joins a random number of sentences in [1, `n_sents`], drawn afresh
    each time the corpus is read. `n_sents = 0` keeps the docs as the DocBins hold
    them (articles, say). With `shuffle`, the docs come in a random order.
    With `[training] max_epochs = -1` spaCy reads the corpus anew each epoch (and
    leaves the shuffling to the reader), so both are drawn anew each epoch. With
    `gold_preproc`, the predicted docs keep the reference's tokens, as
    `spacy.Corpus.v1` keeps them, but are not split into sentences. `limit` caps
    the sentences read (0: all)."""
    if n_sents < 0:
        raise ValueError(
            f"DocumentCorpus: n_sents must be 0 (the docs as they are) or more, got {n_sents}"
        )
    if n_sents == 0 and random_lengths:
        raise ValueError("DocumentCorpus: random_lengths needs n_sents of 1 or more, got 0")
    if limit < 0:
        raise ValueError(f"DocumentCorpus: limit must be 0 (no limit) or more, got {limit}")

    def read(nlp: Language) -> Iterator[Example]:
        if path is None:
            return
        groups = list(read_sentence_groups(path, nlp.vocab, limit))
        sentences = [sentence for group in groups for sentence in group]
        rng = random.Random(random.random())
        if n_sents:
            sizes = run_lengths(len(sentences), n_sents, rng, random_lengths)
        else:
            sizes = [len(group) for group in groups]
        starts = list(accumulate([0] + sizes[:-1]))
        runs = list(zip(starts, sizes))
        if shuffle:
            rng.shuffle(runs)
        for start, size in runs:
            reference = join(sentences[start : start + size])
            yield make_example(nlp, reference, gold_preproc)

    return read


def read_sentences(path: Union[str, Path], vocab: Vocab, limit: int = 0) -> Iterator[Doc]:
    """The non-empty sentences of the DocBins at `path` (a file or a directory), each
    as a doc of its own whose first token starts a sentence, in file order; at most
    `limit` of them unless it is 0."""
    for group in read_sentence_groups(path, vocab, limit):
        yield from group


def read_sentence_groups(
    path: Union[str, Path], vocab: Vocab, limit: int = 0
) -> Iterator[List[Doc]]:
    """`read_sentences`, the sentences of each doc of the DocBins in a list of their
    own (docs with no tokens left out)."""
    locations = walk_corpus(path, ".spacy")
    if not locations:
        raise ValueError(f"DocumentCorpus: no .spacy file at {path}")
    count = 0
    for location in locations:
        for doc in DocBin().from_disk(location).get_docs(vocab):
            if doc.has_annotation("SENT_START"):
                parts = [mark_one_sentence(sent.as_doc()) for sent in doc.sents]
            else:
                parts = [mark_one_sentence(doc)]
            group = [sentence for sentence in parts if len(sentence)]
            if limit:
                group = group[: limit - count]
            if group:
                yield group
            count += len(group)
            if limit and count >= limit:
                return


def mark_one_sentence(doc: Doc) -> Doc:
    """`doc` with its sentence starts set: one sentence."""
    for token in doc:
        token.is_sent_start = token.i == 0
    return doc


def read_documents(path: Union[str, Path], vocab: Vocab, n_sents: int) -> Iterator[Doc]:
    """The docs of the DocBins at `path` as `DocumentCorpus.v1` reads them in file
    order: `n_sents` consecutive sentences a doc, or with 0 the docs as they are."""
    if n_sents == 0:
        return (join(group) for group in read_sentence_groups(path, vocab))
    return join_docs(read_sentences(path, vocab), n_sents)


def join_docs(docs: Iterable[Doc], n_docs: int) -> Iterator[Doc]:
    """Consecutive docs joined `n_docs` at a time (the last join may be shorter),
    their entities, tags and sentence starts kept; a group of one is the doc itself."""
    if n_docs < 1:
        raise ValueError(f"join_docs: n_docs must be at least 1, got {n_docs}")
    group: List[Doc] = []
    for doc in docs:
        group.append(doc)
        if len(group) == n_docs:
            yield join(group)
            group = []
    if group:
        yield join(group)


def join(docs: List[Doc]) -> Doc:
    return docs[0] if len(docs) == 1 else Doc.from_docs(docs)


def run_lengths(
    n_items: int, max_length: int, rng: random.Random, random_lengths: bool
) -> List[int]:
    """Lengths that cut `n_items` consecutive items into runs of `max_length`
    (the last may be shorter) or, with `random_lengths`, of lengths drawn
    uniformly from [1, `max_length`]."""
    lengths: List[int] = []
    left = n_items
    while left > 0:
        size = rng.randint(1, max_length) if random_lengths else max_length
        lengths.append(min(size, left))
        left -= lengths[-1]
    return lengths


def make_example(nlp: Language, reference: Doc, gold_preproc: bool) -> Example:
    """An `Example` of `reference`, predicted on its own tokens with `gold_preproc`
    (or where its spacing is unknown), else on the tokenizer's tokens of its text."""
    if gold_preproc or reference.has_unknown_spaces:
        words = [token.text for token in reference]
        spaces = [bool(token.whitespace_) for token in reference]
        return Example(Doc(nlp.vocab, words=words, spaces=spaces), reference)
    return Example(nlp.make_doc(reference.text), reference)
