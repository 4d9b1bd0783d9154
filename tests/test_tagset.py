"""The tag set: its tags, the moves its scheme allows, the gold tags it parses,
the potentials it makes and the entities it reads off a path."""

from itertools import product

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc
from spacy.training.iob_utils import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab
from util import is_valid

from spacy_lstm_ner.potentials import NEVER, ChainScores
from spacy_lstm_ner.tagset import TagSet

LABELS = ["geo", "per"]


def test_tags_and_sizes():
    assert TagSet(LABELS, "BILUO").tags[:5] == ("O", "B-geo", "I-geo", "L-geo", "U-geo")
    assert TagSet(LABELS, "IOB").tags == ("O", "B-geo", "I-geo", "B-per", "I-per")
    assert TagSet.of_size(9, "BILUO").labels == ("0", "1")
    with pytest.raises(ValueError, match="10 tag scores cannot be the BILUO tags"):
        TagSet.of_size(10, "BILUO")
    with pytest.raises(ValueError, match="Unknown tag scheme 'BIO'"):
        TagSet(LABELS, "BIO")


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
def test_mask_allows_exactly_the_moves_of_valid_sequences(scheme):
    """A tag may open (close) a doc, and follow another, exactly where some
    valid sequence of four tags does so."""
    tagset = TagSet(LABELS, scheme)
    tags = list(tagset.tags)
    valid = [
        seq
        for seq in product(range(len(tags)), repeat=4)
        if is_valid([tags[i] for i in seq], scheme)
    ]
    start, allowed, end = (numpy.zeros_like(mask) for mask in tagset.mask)
    for seq in valid:
        start[seq[0]] = end[seq[-1]] = True
        for a, b in zip(seq, seq[1:]):
            allowed[a, b] = True
    for expected, mask in zip((start, allowed, end), tagset.mask):
        numpy.testing.assert_array_equal(mask, expected)


def test_restrict_forbids_with_never_and_keeps_learned_scores():
    tagset = TagSet(LABELS, "BILUO")
    learned = ChainScores(*(numpy.ones(shape, "float32") for shape in ((9,), (9, 9), (9,))))
    chain = tagset.restrict(learned)
    for values, valid in zip(chain, tagset.mask):
        assert values.dtype == numpy.float64
        assert (values[valid] == 1).all() and (values[~valid] == NEVER).all()
    assert all(
        (values[valid] == 0).all() for values, valid in zip(tagset.restrict(None), tagset.mask)
    )


def test_gold_ids_convert_the_scheme_and_report_unknown_tags():
    biluo = ["B-geo", "L-geo", None, "U-per", "-", "U-org"]
    ids, unknown = TagSet(LABELS, "IOB").gold_ids(biluo)
    iob = TagSet(LABELS, "IOB")
    assert ids.tolist() == [iob.index["B-geo"], iob.index["I-geo"], -1, iob.index["B-per"], -1, -1]
    assert unknown == ["B-org"]
    ids, unknown = TagSet(LABELS, "BILUO").gold_ids(biluo[:4])
    assert ids.tolist()[2] == -1 and unknown == []


def test_without_and_positions_in():
    full = TagSet(["geo", "org", "per"], "BILUO")
    kept, index = full.without(["org"])
    assert kept == TagSet(["geo", "per"], "BILUO")
    assert [full.tags[i] for i in index] == list(kept.tags)
    with pytest.raises(ValueError, match="lacks the tags"):
        full.positions_in(kept)


def test_potentials_forbid_entity_starts_on_whitespace_only():
    tagset = TagSet(LABELS, "BILUO")
    scores = [numpy.zeros((3, 9), "float32"), numpy.ones((2, 9), "float32")]
    spaces = [numpy.array([False, True, False]), numpy.array([True, False])]
    potentials = tagset.potentials(scores, None, spaces)
    assert potentials.lengths.tolist() == [3, 2] and potentials.per_token
    closed = numpy.concatenate(spaces)
    opens = tagset.opens
    assert (potentials.emissions[closed][:, opens] == NEVER).all()
    assert (potentials.emissions[closed][:, ~opens] != NEVER).all()
    assert (potentials.emissions[~closed] != NEVER).all()
    numpy.testing.assert_array_equal(potentials.padded()[1, :2], potentials.per_doc()[1])
    assert not potentials.padded()[1, 2:].any()


def segments(scheme):
    """A valid tag sequence, built from entities and O runs."""
    entity = st.tuples(st.sampled_from(LABELS), st.integers(1, 3))
    parts = st.lists(st.one_of(st.just(None), entity), max_size=6)

    def tags_of(parts):
        tags = []
        for part in parts:
            if part is None:
                tags.append("O")
                continue
            label, length = part
            biluo = (
                [f"U-{label}"]
                if length == 1
                else [f"B-{label}"] + [f"I-{label}"] * (length - 2) + [f"L-{label}"]
            )
            tags.extend(biluo)
        return tags

    return parts.map(tags_of)


def spacy_entities(biluo):
    doc = Doc(Vocab(), words=["w"] * len(biluo))
    return [(s.start, s.end, s.label_) for s in biluo_tags_to_spans(doc, biluo)]


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_entities_agree_with_spacy(scheme, data):
    """The entities of a batch of valid paths, empty ones included, read at
    once, equal spaCy's reading of each path's tags."""
    tagset = TagSet(LABELS, scheme)
    docs = data.draw(st.lists(segments(scheme), min_size=1, max_size=5))
    paths = [
        numpy.array(
            [tagset.index[tag] for tag in (biluo if scheme == "BILUO" else iob(biluo))],
            dtype="int64",
        )
        for biluo in docs
    ]
    assert tagset.entities(paths) == [spacy_entities(biluo) for biluo in docs]


def iob(biluo):
    from spacy.training.iob_utils import biluo_to_iob

    tags = biluo_to_iob(biluo)
    assert iob_to_biluo(tags) == biluo
    return tags
