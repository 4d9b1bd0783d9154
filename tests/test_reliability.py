"""What lstm_ner promises under messy input, batching and multiprocessing; that a
saved pipeline predicts the same in a fresh process is in test_spacy_cli.py."""

import json
import random

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.util import make_tempdir
from util import TRAIN_DATA, ent_offsets, run_python

TEXTS = [text for text, _ in TRAIN_DATA] + [
    "",
    "   ",
    "\n\t \x00\x07",
    "Berlin",
    "Sharon met Apple in Paris on Monday and then flew to New York on Friday.",
    "東京で会議がある。Angela Merkel 🙂🙂 visited Москва and القاهرة on Monday.",
    "x" * 1000 + " visited Paris " + "🙂" * 300,
]
MESSY_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
        st.sampled_from(
            [" ", "\n", "\t", "\x00", "\u200b", "🙂", "東京", " Paris ", "Apple", " on Monday"]
        ),
    ),
    max_size=25,
).map("".join)


def assert_valid_ents(doc, labels):
    assert all(token.ent_iob_ in ("B", "I", "O") for token in doc)
    for ent in doc.ents:
        assert len(ent) > 0 and ent.label_ in labels
        assert not ent[0].is_space


@pytest.fixture(scope="module")
def saved_model(trained_nlp):
    with make_tempdir() as path:
        trained_nlp.to_disk(path)
        yield path


@pytest.mark.parametrize("text", TEXTS)
def test_edge_case_texts_get_valid_entities(trained_nlp, text):
    assert_valid_ents(trained_nlp(text), trained_nlp.get_pipe("lstm_ner").labels)


@settings(max_examples=60, deadline=None)
@given(text=MESSY_TEXT)
def test_any_text_gets_valid_entities(trained_nlp, text):
    assert_valid_ents(trained_nlp(text), trained_nlp.get_pipe("lstm_ner").labels)


@settings(max_examples=25, deadline=None)
@given(
    texts=st.lists(st.one_of(MESSY_TEXT, st.sampled_from(TEXTS)), min_size=1, max_size=12),
    batch_size=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_entities_do_not_depend_on_batch_mates_size_or_order(trained_nlp, texts, batch_size, seed):
    alone = {text: ent_offsets(trained_nlp(text)) for text in texts}
    shuffled = random.Random(seed).sample(texts, len(texts))
    for doc in trained_nlp.pipe(shuffled, batch_size=batch_size):
        assert ent_offsets(doc) == alone[doc.text]


def test_docs_from_another_vocab(trained_nlp):
    other = spacy.blank("en")
    for text in TEXTS:
        doc = trained_nlp(other.make_doc(text))
        assert doc.vocab is other.vocab
        assert ent_offsets(doc) == ent_offsets(trained_nlp(text))


def test_as_tuples_keeps_each_context_with_its_doc(trained_nlp):
    pairs = [(text, {"id": i}) for i, text in enumerate(TEXTS)]
    results = list(trained_nlp.pipe(pairs, as_tuples=True, batch_size=3))
    assert [context["id"] for _, context in results] == list(range(len(TEXTS)))
    for doc, context in results:
        assert ent_offsets(doc) == ent_offsets(trained_nlp(TEXTS[context["id"]]))


def test_two_processes_give_the_same_entities_as_one(saved_model):
    """torch has run multi-threaded in the parent before the workers fork."""
    code = (
        "import json, sys, spacy; nlp = spacy.load(sys.argv[1]); "
        "texts = json.loads(sys.argv[2]) * 8; "
        "ents = lambda docs: [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]; "
        "one = ents(nlp.pipe(texts, batch_size=4)); "
        "two = ents(nlp.pipe(texts, batch_size=4, n_process=2)); "
        "print(json.dumps([one, two]))"
    )
    one, two = json.loads(
        run_python("-c", code, saved_model, json.dumps(TEXTS), timeout=180).stdout
    )
    assert any(one)
    assert two == one


def test_long_document_memory_grows_linearly(saved_model):
    """Peak RSS for a 5,000- and a 20,000-token doc: quadratic memory would make
    the second cost 16 times the first."""
    code = (
        "import resource, sys, spacy; nlp = spacy.load(sys.argv[1]); "
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "sentence = 'Angela Merkel visited Paris . '; nlp(sentence * 50); base = peak(); "
        "short = nlp(sentence * 1000); after_short = peak(); "
        "long = nlp(sentence * 4000); after_long = peak(); "
        "print(len(short), len(long), after_short - base, after_long - base)"
    )
    n_short, n_long, short_kib, long_kib = map(
        int, run_python("-c", code, saved_model).stdout.split()
    )
    assert (n_short, n_long) == (5000, 20000)
    assert short_kib < 64 * 1024
    assert long_kib < 8 * max(short_kib, 4 * 1024)
