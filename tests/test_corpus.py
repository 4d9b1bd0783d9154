"""`spacy_lstm_ner.DocumentCorpus.v1`: sentences joined into documents for training."""

import random

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import fix_random_seed, registry
from util import TRAIN_DATA, ents_of, make_examples

from spacy_lstm_ner.corpus import join_docs, read_documents, run_lengths

READER = "spacy_lstm_ner.DocumentCorpus.v1"


@pytest.fixture
def nlp():
    return spacy.blank("en")


@pytest.fixture
def sentences(nlp):
    return [eg.reference for eg in make_examples(nlp)]


@pytest.fixture
def sentences_path(sentences, tmp_path):
    path = tmp_path / "train.spacy"
    DocBin(docs=sentences).to_disk(path)
    return path


def read(nlp, path, **settings):
    return list(registry.readers.get(READER)(path, **settings)(nlp))


def test_the_reader_is_registered_through_the_entry_point():
    assert registry.readers.get(READER).__module__ == "spacy_lstm_ner.corpus"


def test_consecutive_sentences_become_one_doc(nlp, sentences, sentences_path):
    examples = read(nlp, sentences_path, n_sents=2)
    assert [len(list(eg.reference.sents)) for eg in examples] == [2, 2, 1]
    assert [ents_of(eg.reference) for eg in examples] == [
        ents_of(sentences[0]) + ents_of(sentences[1]),
        ents_of(sentences[2]) + ents_of(sentences[3]),
        ents_of(sentences[4]),
    ]
    assert examples[0].reference.text == f"{TRAIN_DATA[0][0]} {TRAIN_DATA[1][0]}"


def test_gold_preproc_keeps_the_tokens_and_sets_no_sentence_starts(nlp, sentences_path):
    (example,) = read(nlp, sentences_path, n_sents=5, gold_preproc=True)
    assert [t.text for t in example.predicted] == [t.text for t in example.reference]
    assert not example.predicted.has_annotation("SENT_START")
    assert len(list(example.reference.sents)) == 5


def test_multi_sentence_docs_are_split_before_they_are_joined(nlp, sentences, tmp_path):
    path = tmp_path / "docs.spacy"
    DocBin(docs=list(join_docs(sentences, 3))).to_disk(path)
    examples = read(nlp, path, n_sents=2)
    texts = [text for text, _ in TRAIN_DATA]
    assert [eg.reference.text.strip() for eg in examples] == [
        f"{texts[0]} {texts[1]}",
        f"{texts[2]} {texts[3]}",
        texts[4],
    ]


def test_random_lengths_cover_every_sentence_once_and_follow_the_seed(nlp, sentences_path):
    fix_random_seed(0)
    first = read(nlp, sentences_path, n_sents=3, random_lengths=True)
    fix_random_seed(0)
    again = read(nlp, sentences_path, n_sents=3, random_lengths=True)
    assert [eg.reference.text for eg in first] == [eg.reference.text for eg in again]
    assert " ".join(eg.reference.text for eg in first) == " ".join(text for text, _ in TRAIN_DATA)
    assert all(1 <= len(list(eg.reference.sents)) <= 3 for eg in first)


def test_run_lengths_cut_the_items_without_loss():
    assert run_lengths(7, 3, random.Random(0), False) == [3, 3, 1]
    lengths = run_lengths(100, 4, random.Random(0), True)
    assert sum(lengths) == 100 and set(lengths) == {1, 2, 3, 4}


@pytest.fixture
def articles_path(sentences, tmp_path):
    """The five sentences as two docs, of three sentences and two."""
    path = tmp_path / "articles.spacy"
    DocBin(docs=[join_docs_of(sentences[:3]), join_docs_of(sentences[3:])]).to_disk(path)
    return path


def join_docs_of(docs):
    return next(join_docs(docs, len(docs)))


def test_n_sents_0_keeps_the_docs_as_they_are(nlp, sentences, articles_path):
    examples = read(nlp, articles_path, n_sents=0)
    assert [len(list(eg.reference.sents)) for eg in examples] == [3, 2]
    assert [ents_of(eg.reference) for eg in examples] == [
        [ent for doc in sentences[:3] for ent in ents_of(doc)],
        [ent for doc in sentences[3:] for ent in ents_of(doc)],
    ]
    fix_random_seed(0)
    shuffled = read(nlp, articles_path, n_sents=0, shuffle=True, limit=4)
    assert sorted(len(list(eg.reference.sents)) for eg in shuffled) == [1, 3]
    assert [doc.text for doc in read_documents(articles_path, nlp.vocab, 0)] == [
        eg.reference.text for eg in examples
    ]
    assert [len(doc) for doc in read_documents(articles_path, nlp.vocab, 4)] == [
        sum(len(doc) for doc in sentences[:4]),
        len(sentences[4]),
    ]


def test_limit_caps_the_sentences(nlp, sentences_path):
    examples = read(nlp, sentences_path, n_sents=10, limit=3)
    assert len(list(examples[0].reference.sents)) == 3


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"n_sents": -1}, "n_sents must be 0 .* or more, got -1"),
        ({"n_sents": 0, "random_lengths": True}, "random_lengths needs n_sents of 1 or more"),
        ({"limit": -1}, "limit must be 0"),
    ],
)
def test_bad_settings_are_named(sentences_path, settings, message):
    with pytest.raises(ValueError, match=message):
        registry.readers.get(READER)(sentences_path, **settings)


def test_a_path_without_docbins_is_named(nlp, tmp_path):
    with pytest.raises(ValueError, match=f"no .spacy file at {tmp_path}"):
        read(nlp, tmp_path)


def test_join_docs_keeps_entities_and_sentence_starts(nlp):
    docs = [Doc(nlp.vocab, words=["Paris", "rains"], ents=["B-geo", "O"]) for _ in range(3)]
    joined = list(join_docs(docs, 2))
    assert [len(doc) for doc in joined] == [4, 2]
    assert [[t.is_sent_start for t in doc] for doc in joined][0] == [True, None, True, None]
    assert ents_of(joined[0]) == [("Paris", "geo"), ("Paris", "geo")]
    assert next(join_docs(docs[:1], 1)) is docs[0]
    with pytest.raises(ValueError, match="n_docs must be at least 1, got 0"):
        next(join_docs(docs, 0))


def test_shuffle_draws_new_docs_in_each_read(nlp, sentences_path):
    fix_random_seed(0)
    reader = registry.readers.get(READER)(
        sentences_path, n_sents=2, random_lengths=True, shuffle=True
    )
    reads = [[eg.reference.text for eg in reader(nlp)] for _ in range(8)]
    assert len({tuple(texts) for texts in reads}) > 1
    for texts in reads:
        words = sorted(word for text in texts for word in text.split())
        assert words == sorted(word for text, _ in TRAIN_DATA for word in text.split())
