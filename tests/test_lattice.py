"""The forward-backward algorithm over tag lattices against brute force."""

import numpy
import pytest
from util import brute_force, random_chain

from spacy_lstm_ner.lattice import forward_backward, pad_emissions


@pytest.mark.parametrize("seed", range(5))
def test_forward_backward_matches_brute_force_in_a_padded_batch(seed):
    rng = numpy.random.default_rng(seed)
    n_tags = 4
    chain = random_chain(rng, n_tags)
    docs = [rng.normal(size=(n, n_tags)) for n in (1, 4, 2, 3)]
    result = forward_backward(pad_emissions(docs), numpy.array([len(d) for d in docs]), chain)
    for i, emissions in enumerate(docs):
        log_z, marginals, _, _ = brute_force(emissions, chain)
        assert result.log_z[i] == pytest.approx(log_z, rel=1e-9)
        numpy.testing.assert_allclose(result.tags[i, : len(emissions)], marginals, atol=1e-9)
        assert not result.tags[i, len(emissions) :].any()


def test_expected_transition_and_boundary_counts_match_brute_force():
    rng = numpy.random.default_rng(7)
    chain = random_chain(rng, 3)
    docs = [rng.normal(size=(n, 3)) for n in (3, 1, 4)]
    result = forward_backward(pad_emissions(docs), numpy.array([3, 1, 4]), chain)
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
