"""The annotate command's DocBin writer and reader against spaCy's `DocBin`: every
attribute either stores gives the same docs, read into a vocab that has none of
their strings."""

import zlib

import numpy
import pytest
import spacy
import srsly
from spacy.attrs import SPACY
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.tokens.doc import DOCBIN_ALL_ATTRS
from spacy.vocab import Vocab

from spacy_lstm_ner.annotate.docbin import docbin_bytes, docbin_docs

# DocBin's default attributes, and two subsets.
ATTRS = [None, ["ORTH", "ENT_IOB", "ENT_TYPE"], ["ORTH", "SENT_START", "HEAD", "DEP", "MORPH"]]

Doc.set_extension("test_docbin_source", default=None, force=True)


def annotated_docs():
    """Docs holding everything a DocBin stores: spaces (and unknown spaces), tags,
    POS, morphs, lemmas, norms, heads and dependencies, sentence starts, entities with
    KB ids and ids next to outside and missing tokens, categories, span groups
    (attrs with a list and an array, spans with known and unknown KB ids, with ids,
    empty, one group under two keys), user data (a custom attribute too), and
    empty docs."""
    nlp = spacy.blank("en")
    doc = nlp("Angela Merkel visited Paris and Москва on Monday.\nThen she left.")
    for token, tag, pos in zip(doc, ["NNP", "NNP", "VBD", "NNP"], ["PROPN", "PROPN", "VERB"]):
        token.tag_, token.pos_ = tag, pos
    doc[0].lemma_, doc[2].lemma_, doc[2].norm_ = "Angela", "visit", "VISITED"
    doc[1].set_morph("Number=Sing")
    doc[0].head, doc[0].dep_, doc[2].dep_ = doc[1], "compound", "ROOT"
    doc.set_ents(
        [
            Span(doc, 0, 2, label="PER", kb_id="Q567", span_id="merkel"),
            Span(doc, 3, 4, label="LOC"),
        ],
        outside=[doc[2:3], doc[4:5]],
        missing=[doc[6:8]],
        default="unmodified",
    )
    doc.cats = {"POLITICS": 1.0, "SPORT": 0.0}
    spans = [
        Span(doc, 0, 2, label="PER", kb_id="Q567"),
        Span(doc, 3, 4, label="LOC", kb_id=12345, span_id="paris"),
        Span(doc, 5, 5, label="EMPTY"),
    ]
    doc.spans["lstm_ner"] = SpanGroup(
        doc, name="lstm_ner", spans=spans, attrs={"scores": [0.5, 1.0, 0.25]}
    )
    doc.spans["copy"] = SpanGroup(
        doc, name="lstm_ner", spans=spans, attrs={"scores": [0.5, 1.0, 0.25]}
    )
    doc.spans["array"] = SpanGroup(
        doc, name="array", spans=spans[:1], attrs={"scores": numpy.array([0.125], "float32")}
    )
    doc.spans["none"] = SpanGroup(doc, name="none")
    doc.user_data["id"] = [1, "a"]
    doc._.test_docbin_source = "tests"
    unknown_spaces = Doc(nlp.vocab, words=["No", "spaces", "known"])
    unknown_spaces.set_ents([Span(unknown_spaces, 0, 1, label="ORG")])
    sentences = nlp("Just words. And more words.")
    sentences[0].is_sent_start, sentences[3].is_sent_start = True, True
    return [doc, nlp(""), sentences, unknown_spaces, Doc(nlp.vocab)]


def snapshot(doc):
    """All that a DocBin can store of `doc`, comparable with ==."""
    columns = [*DOCBIN_ALL_ATTRS, SPACY]
    return {
        "text": doc.text,
        "array": doc.to_array(columns).tolist(),
        "strings": [
            (t.text, t.tag_, t.lemma_, t.norm_, str(t.morph), t.dep_, t.ent_type_, t.ent_kb_id_)
            for t in doc
        ],
        "entities": [(e.start, e.end, e.label_, e.kb_id_, e.id_) for e in doc.ents],
        "has_unknown_spaces": doc.has_unknown_spaces,
        "cats": doc.cats,
        "spans": {
            key: (
                group.name,
                {
                    name: (type(v).__name__, numpy.asarray(v).tolist())
                    for name, v in group.attrs.items()
                },
                [
                    (s.start, s.end, s.start_char, s.end_char, s.label_, s.kb_id, s.id)
                    for s in group
                ],
            )
            for key, group in doc.spans.items()
        },
        "user_data": dict(doc.user_data),
    }


def docbin_of(docs, attrs):
    return DocBin(store_user_data=True, docs=docs, **({} if attrs is None else {"attrs": attrs}))


@pytest.mark.parametrize("attrs", ATTRS)
def test_written_docs_are_those_docbin_writes(attrs):
    docs = annotated_docs()
    written = DocBin().from_bytes(docbin_bytes(docs, attrs))
    expected = DocBin().from_bytes(docbin_of(docs, attrs).to_bytes())
    assert written.attrs == expected.attrs
    got = [snapshot(doc) for doc in written.get_docs(Vocab())]
    assert got == [snapshot(doc) for doc in expected.get_docs(Vocab())]
    assert got[0]["spans"]["lstm_ner"][2][1][6] != 0  # the span id made it through
    assert got[0]["user_data"][("._.", "test_docbin_source", None, None)] == "tests"


def test_written_message_is_docbins_with_the_default_attrs():
    docs = annotated_docs()
    expected = docbin_of(docs, None).to_bytes()
    assert zlib.decompress(docbin_bytes(docs)) == zlib.decompress(expected)
    assert zlib.decompress(docbin_bytes([])) == zlib.decompress(docbin_of([], None).to_bytes())


@pytest.mark.parametrize("attrs", ATTRS)
def test_read_docs_are_those_docbin_reads(attrs):
    data = docbin_of(annotated_docs(), attrs).to_bytes()
    got = [snapshot(doc) for doc in docbin_docs(DocBin().from_bytes(data), Vocab())]
    assert got == [snapshot(doc) for doc in DocBin().from_bytes(data).get_docs(Vocab())]


def test_span_groups_of_an_older_spacy_are_read():
    """An older spaCy stored a doc's span groups as a list."""
    doc = annotated_docs()[0]
    docbin = docbin_of([doc], None)
    docbin.span_groups[0] = srsly.msgpack_dumps([doc.spans["lstm_ner"].to_bytes()])
    data = docbin.to_bytes()
    (doc,) = docbin_docs(DocBin().from_bytes(data), Vocab())
    (expected,) = DocBin().from_bytes(data).get_docs(Vocab())
    assert snapshot(doc) == snapshot(expected)
