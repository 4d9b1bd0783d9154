"""`scripts/pack_vectors.py` and `scripts/vectors_table.py`: a text vectors file
packed to 8 bits and made into the table `[initialize] vectors` loads."""

import gzip

import numpy
import pytest
import spacy
from util import ROOT, run_python

WORDS = {
    "iraq": [0.5, -1.25, 2.0],
    "said": [0.013, 0.2, -0.37],
    "u.s.": [-0.9, 0.0, 1.1],
    "Apple": [3.0, -2.5, 0.25],
}


def pack(tmp_path, lines, name="vectors.txt", check=True):
    text = "\n".join(lines) + "\n"
    source = tmp_path / name
    if name.endswith(".gz"):
        source.write_bytes(gzip.compress(text.encode("utf8")))
    else:
        source.write_text(text, encoding="utf8")
    script = ROOT / "scripts" / "pack_vectors.py"
    return run_python(script, source, tmp_path / "vectors.npz", check=check)


def table(tmp_path):
    run_python(
        ROOT / "scripts" / "vectors_table.py",
        tmp_path / "vectors.npz",
        tmp_path / "vectors",
        "--name",
        "tiny_vectors",
    )
    return spacy.load(tmp_path / "vectors")


@pytest.mark.parametrize("header,name", [(False, "vectors.txt"), (True, "vectors.txt.gz")])
def test_packed_vectors_come_back_within_one_step_of_8_bits(tmp_path, header, name):
    lines = [f"{word} {' '.join(map(str, values))}" for word, values in WORDS.items()]
    pack(tmp_path, ["4 3", *lines] if header else lines, name)
    nlp = table(tmp_path)
    vectors = nlp.vocab.vectors
    assert vectors.shape == (4, 3) and vectors.name == "tiny_vectors"
    step = numpy.abs(numpy.array(list(WORDS.values()))).max(axis=0) / 127
    for word, values in WORDS.items():
        numpy.testing.assert_array_less(numpy.abs(nlp.vocab.get_vector(word) - values), step)


def test_capitalised_forms_share_the_row_of_their_word(tmp_path):
    pack(tmp_path, [f"{word} {' '.join(map(str, values))}" for word, values in WORDS.items()])
    nlp = table(tmp_path)
    vectors = {
        token.text: token.vector.tolist() for token in nlp("iraq Iraq IRAQ U.S. APPLE apple")
    }
    assert vectors["Iraq"] == vectors["IRAQ"] == vectors["iraq"]
    assert vectors["U.S."] == nlp.vocab.get_vector("u.s.").tolist()
    assert vectors["APPLE"] == nlp.vocab.get_vector("Apple").tolist()
    assert vectors["apple"] == [0.0, 0.0, 0.0]


def test_a_vector_of_another_width_fails_naming_the_word_and_file(tmp_path):
    result = pack(tmp_path, ["iraq 0.1 0.2 0.3", "said 0.1 0.2"], check=False)
    message = " ".join(result.stdout.split())
    assert result.returncode != 0 and "'said'" in message and "vectors.txt" in message
    assert not (tmp_path / "vectors.npz").exists()
