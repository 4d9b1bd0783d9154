"""The forward-backward algorithm over tag lattices against brute force, and a
lattice that keeps its sums at some points only."""

import numpy
import pytest
from util import brute_force, potentials_of, random_chain

from spacy_lstm_ner.lattice import PointNotKept, forward_backward, lattice
from spacy_lstm_ner.tagset import TagSet


@pytest.mark.parametrize("seed", range(5))
def test_forward_backward_matches_brute_force_in_a_padded_batch(seed):
    rng = numpy.random.default_rng(seed)
    n_tags = 4
    chain = random_chain(rng, n_tags)
    docs = [rng.normal(size=(n, n_tags)) for n in (1, 4, 2, 3)]
    result = forward_backward(potentials_of(docs, chain))
    for i, emissions in enumerate(docs):
        log_z, marginals, _, _ = brute_force(emissions, chain)
        assert result.log_z[i] == pytest.approx(log_z, rel=1e-9)
        numpy.testing.assert_allclose(result.tags[i, : len(emissions)], marginals, atol=1e-9)
        assert not result.tags[i, len(emissions) :].any()


def test_expected_transition_and_boundary_counts_match_brute_force():
    rng = numpy.random.default_rng(7)
    chain = random_chain(rng, 3)
    docs = [rng.normal(size=(n, 3)) for n in (3, 1, 4)]
    result = forward_backward(potentials_of(docs, chain))
    transitions, start, end = numpy.zeros((3, 3)), numpy.zeros(3), numpy.zeros(3)
    for emissions in docs:
        log_z, _, paths, scores = brute_force(emissions, chain)
        for path, weight in zip(paths, numpy.exp(scores - log_z)):
            start[path[0]] += weight
            end[path[-1]] += weight
            for a, b in zip(path, path[1:]):
                transitions[a, b] += weight
    numpy.testing.assert_allclose(result.transitions, transitions, atol=1e-9)
    numpy.testing.assert_allclose(result.start, start, atol=1e-9)
    numpy.testing.assert_allclose(result.end, end, atol=1e-9)


def test_lattice_kept_at_some_points_reads_the_same_sums_there():
    rng = numpy.random.default_rng(6)
    tags = TagSet(["geo", "per"], "BILUO").tags
    chain = random_chain(rng, len(tags))
    potentials = potentials_of([rng.normal(size=(n, len(tags))) for n in (3, 7, 1, 5)], chain)
    emissions, lengths = potentials.padded(), potentials.lengths
    doc, step = numpy.array([1, 1, 0, 2, 3, 1]), numpy.array([0, 6, 2, 0, 3, 0])
    full = lattice(emissions, lengths, chain, dtype="float32")
    kept = lattice(emissions, lengths, chain, dtype="float32", keep=(doc, step))
    numpy.testing.assert_array_equal(kept.log_z, full.log_z)
    for tag in (slice(None), numpy.arange(len(doc)) % len(tags)):
        numpy.testing.assert_array_equal(kept.alpha(doc, step, tag), full.alpha(doc, step, tag))
        numpy.testing.assert_array_equal(kept.beta(doc, step, tag), full.beta(doc, step, tag))
    assert kept.alpha(3, 3, 0) == full.alpha(3, 3, 0)
    with pytest.raises(PointNotKept, match="doc 3, step 4"):
        kept.beta(numpy.array([1, 3]), numpy.array([6, 4]))
    with pytest.raises(PointNotKept, match="doc 0, step 1"):
        kept.alpha(0, 1, 2)
    with pytest.raises(ValueError, match="without `keep`"):
        kept.all_alpha()
