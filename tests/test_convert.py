import gzip
import itertools
import re
from pathlib import Path

import pytest
import spacy
from convert_gmb import (
    DEFAULT_SPLITS,
    convert,
    gmb_to_docs,
    parse_splits,
    read_gmb_csv,
)
from spacy.tokens import DocBin
from util import GMB_CSV, ents_of, run_convert

HEADER = "Sentence #,Word,POS,Tag"
VALID_ROWS = [
    "Sentence: 1,Thousands,NNS,O",
    ",marched,VBN,O",
    ",in,IN,O",
    ",New,NNP,B-geo",
    ",York,NNP,I-geo",
    ',",",",",O',
    ',"""",``,O',
    ",\u201cpeace\u201d,NN,O",
    ",Smith,NNP,B-per",
    ",said,VBD,O",
    "Sentence: 2,Obama,NNP,B-per",
    ",visited,VBD,O",
    ",Paris,NNP,B-geo",
    ",on,IN,O",
    ",Monday,NNP,B-tim",
    "Sentence: 3,It,PRP,O",
    ",rained,VBD,O",
    ",.,.,O",
    "Sentence: 5,The,DT,O",
    ",United,NNP,B-org",
    ",Nations,NNP,I-org",
]
SPLITS = "train:1-2,dev:3-4"


def write_csv(path: Path, rows, header: str = HEADER) -> Path:
    text = "".join(f"{row}\r\n" for row in [header, *rows])
    path.write_bytes(text.encode("cp1252"))
    return path


@pytest.fixture
def valid_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "gmb.csv", VALID_ROWS)


def test_read_gmb_csv_parses_quoted_and_cp1252_tokens(valid_csv):
    sentences = list(read_gmb_csv(valid_csv))
    assert [s.id for s in sentences] == [1, 2, 3, 5]
    first = sentences[0]
    assert first.words == [
        "Thousands",
        "marched",
        "in",
        "New",
        "York",
        ",",
        '"',
        "\u201cpeace\u201d",
        "Smith",
        "said",
    ]
    assert first.pos[5:7] == [",", "``"]
    assert first.tags[3:5] == ["B-geo", "I-geo"]
    assert valid_csv.read_bytes().count(b"\x93peace\x94") == 1


def test_gmb_to_docs_sets_words_entities_and_pos(valid_csv):
    docs = list(gmb_to_docs(valid_csv))
    assert len(docs) == 4
    assert docs[0].text == 'Thousands marched in New York , " \u201cpeace\u201d Smith said'
    assert ents_of(docs[0]) == [("New York", "geo"), ("Smith", "per")]
    assert ents_of(docs[1]) == [("Obama", "per"), ("Paris", "geo"), ("Monday", "tim")]
    assert ents_of(docs[2]) == []
    assert ents_of(docs[3]) == [("United Nations", "org")]
    assert [t.tag_ for t in docs[1]] == ["NNP", "VBD", "NNP", "IN", "NNP"]
    assert [t.ent_iob_ for t in docs[2]] == ["O", "O", "O"]
    assert not docs[2][-1].whitespace_ and docs[2][0].whitespace_ == " "


def test_convert_writes_splits_that_round_trip(valid_csv, tmp_path):
    stats = convert(valid_csv, tmp_path / "corpus", SPLITS)
    assert stats.skipped == 1 and stats.repairs == 0
    assert stats.splits["train"] == {"docs": 2, "sentences": 2, "tokens": 15, "entities": 5}
    assert stats.splits["dev"] == {"docs": 1, "sentences": 1, "tokens": 3, "entities": 0}
    nlp = spacy.blank("en")
    read = {
        name: list(DocBin().from_disk(tmp_path / "corpus" / f"{name}.spacy").get_docs(nlp.vocab))
        for name in ("train", "dev")
    }
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["dev.spacy", "train.spacy"]
    assert [doc.text for doc in read["train"]] == [doc.text for doc in gmb_to_docs(valid_csv)][:2]
    assert [ents_of(doc) for doc in read["train"]] == [
        [("New York", "geo"), ("Smith", "per")],
        [("Obama", "per"), ("Paris", "geo"), ("Monday", "tim")],
    ]
    assert [t.tag_ for t in read["train"][0]][5:7] == [",", "``"]
    assert [[t.text for t in doc] for doc in read["dev"]] == [["It", "rained", "."]]


def test_n_sents_joins_consecutive_sentences_of_a_split(valid_csv, tmp_path):
    stats = convert(valid_csv, tmp_path / "corpus", SPLITS, n_sents=2)
    assert stats.splits["train"] == {"docs": 1, "sentences": 2, "tokens": 15, "entities": 5}
    assert stats.splits["dev"] == {"docs": 1, "sentences": 1, "tokens": 3, "entities": 0}
    nlp = spacy.blank("en")
    (doc,) = DocBin().from_disk(tmp_path / "corpus" / "train.spacy").get_docs(nlp.vocab)
    sentences = list(gmb_to_docs(valid_csv))[:2]
    assert [sent.text for sent in doc.sents] == [sentence.text for sentence in sentences]
    assert ents_of(doc) == ents_of(sentences[0]) + ents_of(sentences[1])
    with pytest.raises(ValueError, match="n_sents must be at least 1, got 0"):
        convert(valid_csv, tmp_path / "other", SPLITS, n_sents=0)


def test_gzip_input_reads_like_plain(valid_csv, tmp_path):
    gz = tmp_path / "gmb.csv.gz"
    gz.write_bytes(gzip.compress(valid_csv.read_bytes()))
    assert list(read_gmb_csv(gz)) == list(read_gmb_csv(valid_csv))
    stats = convert(gz, tmp_path / "corpus", SPLITS)
    assert stats.splits["train"]["docs"] == 2


@pytest.mark.parametrize(
    "rows,line,problem",
    [
        (["Sentence: 1,a,DT,O", ",b,NN"], 3, "expected 4 columns, got 3"),
        (["Sentence: 1,a,DT,O,extra"], 2, "expected 4 columns, got 5"),
        (["Sentence: 1,a,DT,O", ""], 3, "expected 4 columns, got 0"),
        (["Sentence: 1,a,DT,O", ",b,NN,X-geo"], 3, "tag 'X-geo'"),
        (["Sentence: 1,a,DT,O", ",b,NN,B-"], 3, "tag 'B-'"),
        (["Sentence: 1,a,DT,O", ",b,NN,"], 3, "tag ''"),
        (["Sentence: 1,a,DT,O", ",,NN,O"], 3, "empty word"),
        ([",a,DT,O", "Sentence: 1,b,NN,O"], 2, "the first row has no sentence id"),
        (["Sentence: 2,a,DT,O", "Sentence: 2,b,NN,O"], 3, "sentence id 2 does not follow 2"),
        (["Sentence: 2,a,DT,O", ",b,NN,O", "Sentence: 1,c,NN"], 4, "expected 4 columns"),
        (["Sentence: 2,a,DT,O", ",b,NN,O", "Sentence: 1,c,NN,O"], 4, "sentence id 1 does not"),
        (["Sentence: 1,a,DT,O", "Sentence 2,b,NN,O"], 3, "sentence id 'Sentence 2'"),
        (["Sentence: 1,a,DT,O", "Sentence: two,b,NN,O"], 3, "sentence id 'Sentence: two'"),
    ],
    ids=[
        "too-few-columns",
        "too-many-columns",
        "blank-line",
        "tag-X-geo",
        "tag-B-",
        "tag-empty",
        "empty-word",
        "no-first-id",
        "repeated-id",
        "columns-on-id-row",
        "decreasing-id",
        "id-format",
        "id-not-int",
    ],
)
def test_malformed_rows_raise_with_line(tmp_path, rows, line, problem):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ValueError, match=re.escape(f"{path}, line {line}: {problem}")):
        list(read_gmb_csv(path))


@pytest.mark.parametrize(
    "header", ["Sentence #,Word,Tag,POS", "Word,POS,Tag", "Sentence: 1,a,DT,O"]
)
def test_bad_header_raises_on_line_1(tmp_path, header):
    path = write_csv(tmp_path / "bad.csv", VALID_ROWS, header=header)
    with pytest.raises(ValueError, match=re.escape(f"{path}, line 1: expected the header")):
        list(read_gmb_csv(path))


def test_empty_file_raises_on_line_1(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=re.escape(f"{path}, line 1:")):
        list(read_gmb_csv(path))


def test_undecodable_byte_raises_with_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Sentence #,Word,POS,Tag\r\nSentence: 1,a,DT,O\r\n,b\x81,NN,O\r\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}, line 3: byte b'\\x81'")):
        list(read_gmb_csv(path))


def test_dangling_inside_tags_are_repaired_with_a_warning(tmp_path):
    rows = [
        "Sentence: 1,In,IN,O",
        ",Paris,NNP,I-geo",
        ",Smith,NNP,I-per",
        ",Jones,NNP,I-per",
        "Sentence: 2,Rome,NNP,I-geo",
    ]
    path = write_csv(tmp_path / "dangling.csv", rows)
    repairs = []
    with pytest.warns(UserWarning, match=r"repaired 3 I- tag.*\(line 3, 4, 6\)") as record:
        sentences = list(read_gmb_csv(path, repairs=repairs))
    assert str(path) in str(record[0].message)
    assert repairs == [3, 4, 6]
    assert [s.tags for s in sentences] == [["O", "B-geo", "B-per", "I-per"], ["B-geo"]]
    with pytest.warns(UserWarning, match="repaired 3"):
        stats = convert(path, tmp_path / "corpus", "train:1-2")
    assert stats.repairs == 3 and stats.splits["train"]["entities"] == 3


def test_parse_splits():
    assert parse_splits(DEFAULT_SPLITS) == {
        "train": (1, 38367),
        "dev": (38368, 43163),
        "test": (43164, 47959),
    }
    for bad in ["train:1-10,dev:10-20", "train:5-1", "train:1-2,train:3-4", "train:1", "1-2"]:
        with pytest.raises(ValueError, match="split"):
            parse_splits(bad)


def test_cli_converts(valid_csv, tmp_path):
    result = run_convert(
        valid_csv, tmp_path / "corpus", "--splits", "train:1-3,test:5-5", "--n-sents", "2"
    )
    assert re.search(r"train\.spacy\s+1-3\s+2\s+3\s+18\s+5", result.stdout)
    nlp = spacy.blank("en")
    test_docs = DocBin().from_disk(tmp_path / "corpus" / "test.spacy").get_docs(nlp.vocab)
    assert [ents_of(doc) for doc in test_docs] == [[("United Nations", "org")]]


def test_cli_fails_with_line_on_malformed_file(tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["Sentence: 1,a,DT,O", ",b,NN,X-geo"])
    result = run_convert(path, tmp_path / "corpus", check=False)
    assert result.returncode != 0
    assert f"{path}, line 3: tag 'X-geo'" in " ".join(result.stdout.split())  # wasabi wraps lines
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "corpus").exists()


@pytest.mark.skipif(not GMB_CSV.exists(), reason="GMB corpus not in assets/")
def test_real_corpus_opening_sentences():
    first, second = itertools.islice(read_gmb_csv(GMB_CSV), 2)
    assert (first.id, len(first.words), second.id) == (1, 24, 2)
    assert first.words[6] == "London" and first.tags[6] == "B-geo" and first.pos[6] == "NNP"
