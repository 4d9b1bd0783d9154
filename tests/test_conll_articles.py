"""scripts/conll_articles.py: the articles of a CoNLL-2003 file, for `spacy convert`."""

import gzip

import spacy
from conll_articles import DELIMITER, article_starts, articles, read_sentences
from spacy.tokens import DocBin
from util import ROOT, ents_of, run_python

FIRST = """EU NNP B-NP B-ORG
rejects VBZ B-VP O
British JJ B-NP B-MISC
lamb NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O

The DT B-NP O
Commission NNP I-NP B-ORG
said VBD B-VP O
so RB B-ADVP O
. . O O
"""

SECOND = """Israel NNP B-NP B-LOC
plays VBZ B-VP O
down RP B-PRT O
fears NNS B-NP O
. . O O

JERUSALEM NNP B-NP B-LOC
1996-08-22 CD I-NP O

Syria NNP B-NP B-LOC
waits VBZ B-VP O
. . O O

Results NNS B-NP O
: : O O
"""


def write_conll(path, text):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf8") as file:
        file.write(text)
    return path


def words_of(group):
    return [[line.split()[0] for line in sentence] for sentence in group]


def test_datelines_open_articles_at_their_headline_past_a_byline(tmp_path):
    sentences = list(read_sentences(write_conll(tmp_path / "train.txt.gz", FIRST + "\n" + SECOND)))
    assert article_starts(sentences) == [0, 4]
    first, second = articles(sentences)
    assert words_of(first)[1] == ["Peter", "Blackburn"]
    assert words_of(second)[0] == ["Israel", "plays", "down", "fears", "."]
    assert words_of(second)[-1] == ["Results", ":"]
    assert article_starts(sentences, max_tokens=1) == [0]


def test_docstart_lines_decide_where_the_file_has_them(tmp_path):
    text = f"-DOCSTART- -X- -X- O\n\n{FIRST}\n-DOCSTART- -X- -X- O\n\n{SECOND}"
    groups = articles(list(read_sentences(write_conll(tmp_path / "train.txt", text))))
    assert [len(group) for group in groups] == [4, 4]
    text = f"{FIRST}\n-DOCSTART- -X- -X- O\n{SECOND}"
    groups = articles(list(read_sentences(write_conll(tmp_path / "plain.txt", text))))
    assert [len(group) for group in groups] == [4, 4]


def test_spacy_convert_makes_one_doc_an_article(tmp_path):
    source = write_conll(tmp_path / "source.txt.gz", FIRST + "\n" + SECOND)
    marked = tmp_path / "articles" / "test.txt"
    result = run_python(ROOT / "scripts" / "conll_articles.py", source, marked)
    assert "2 articles, 8 sentences" in result.stdout
    assert marked.read_text(encoding="utf8").count(DELIMITER) == 2
    run_python("-m", "spacy", "convert", marked, tmp_path, "--converter", "ner", "--n-sents", "0")
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "test.spacy").get_docs(nlp.vocab))
    assert [len(list(doc.sents)) for doc in docs] == [4, 4]
    assert ents_of(docs[0]) == [
        ("EU", "ORG"),
        ("British", "MISC"),
        ("Peter Blackburn", "PER"),
        ("BRUSSELS", "LOC"),
        ("Commission", "ORG"),
    ]


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(FIRST.encode("utf8") + "\nM\u00fcller NNP B-NP B-PER\n".encode("latin-1"))
    result = run_python(
        ROOT / "scripts" / "conll_articles.py", path, tmp_path / "out.txt", check=False
    )
    assert result.returncode == 1
    assert f"{path}, line 19: not UTF-8 text" in " ".join(result.stdout.split())
