"""`python scripts/case_keys.py`: capitalised forms share their word's row."""

import numpy
import spacy
from util import init_vectors, run_case_keys


def test_title_and_upper_forms_find_the_lowercase_row(tmp_path):
    path = init_vectors(tmp_path, ["3 2", "iraq 1.0 2.0", "u.s. 3.0 4.0", "Apple 5.0 6.0"])
    result = run_case_keys(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Added 4 case forms to the 3 rows" in " ".join(
        result.stdout.split()
    )  # wasabi wraps lines
    nlp = spacy.load(path)
    assert nlp.vocab.vectors.shape == (3, 2)
    vectors = {
        token.text: token.vector.tolist() for token in nlp("iraq Iraq IRAQ U.S. Apple APPLE apple")
    }
    assert vectors["Iraq"] == vectors["IRAQ"] == vectors["iraq"] == [1.0, 2.0]
    assert vectors["U.S."] == [3.0, 4.0]
    assert vectors["APPLE"] == [5.0, 6.0] and vectors["apple"] == [0.0, 0.0]


def test_a_form_with_a_row_of_its_own_keeps_it(tmp_path):
    path = init_vectors(tmp_path, ["2 2", "us 1.0 1.0", "US 2.0 2.0"])
    assert run_case_keys(path).returncode == 0
    nlp = spacy.load(path)
    numpy.testing.assert_array_equal(nlp.vocab.get_vector("US"), [2.0, 2.0])
    numpy.testing.assert_array_equal(nlp.vocab.get_vector("Us"), [1.0, 1.0])


def test_a_missing_directory_fails_naming_it(tmp_path):
    result = run_case_keys(tmp_path / "nowhere")
    assert result.returncode != 0 and "nowhere" in result.stderr
