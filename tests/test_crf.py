"""The linear-chain CRF: forward-backward and Viterbi against brute force,
gradients against finite differences, and the CRF tagger in a real pipeline."""
import itertools

import numpy
import pytest
import spacy
from spacy.util import make_tempdir

from spacy_lstm_ner.crf import (
    NEVER,
    CRFOutput,
    clamp_to_gold,
    crf_viterbi_decode,
    forward_backward,
    pad_emissions,
    restrict,
)
from util import GOLD, TRAIN_DATA, crf_config, ents_of, make_examples, overfit_pipeline, train_pipeline


def random_chain(rng, n_tags, forbid=0.3):
    valid = rng.random((n_tags, n_tags)) > forbid
    valid_start, valid_end = numpy.ones(n_tags, bool), numpy.ones(n_tags, bool)
    valid_start[0] = valid_end[-1] = False
    return restrict(rng.normal(size=n_tags), rng.normal(size=(n_tags, n_tags)), rng.normal(size=n_tags), valid_start, valid, valid_end)


def path_score(emissions, chain, path):
    score = chain.start[path[0]] + chain.end[path[-1]] + emissions[numpy.arange(len(path)), path].sum()
    return score + sum(chain.transitions[a, b] for a, b in zip(path, path[1:]))


def all_paths(n_tokens, n_tags):
    return [numpy.array(p) for p in itertools.product(range(n_tags), repeat=n_tokens)]


def brute_force(emissions, chain):
    """log Z and tag marginals by enumerating every path; forbidden ones weigh 0."""
    paths = all_paths(len(emissions), emissions.shape[1])
    scores = numpy.array([path_score(emissions, chain, p) for p in paths])
    log_z = numpy.logaddexp.reduce(scores)
    weights = numpy.exp(scores - log_z)
    marginals = numpy.zeros(emissions.shape)
    for path, weight in zip(paths, weights):
        marginals[numpy.arange(len(path)), path] += weight
    return log_z, marginals, paths, scores


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
        assert not result.tags[i, len(emissions):].any()


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


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_matches_brute_force_over_valid_paths(seed):
    rng = numpy.random.default_rng(seed)
    chain = random_chain(rng, 4)
    docs = [rng.normal(size=(n, 4)).astype("float32") for n in (3, 1, 4, 0, 2)]
    for emissions, path in zip(docs, crf_viterbi_decode(docs, chain)):
        if not len(emissions):
            assert len(path) == 0
            continue
        paths = all_paths(len(emissions), 4)
        best = paths[int(numpy.argmax([path_score(emissions, chain, p) for p in paths]))]
        numpy.testing.assert_array_equal(path, best)
        assert path_score(emissions, chain, path) > NEVER / 2


def nll(emissions, chain, gold):
    lengths = numpy.array([len(emissions)])
    padded = emissions[None]
    return (forward_backward(padded, lengths, chain).log_z - forward_backward(clamp_to_gold(padded, [gold]), lengths, chain).log_z)[0]


def test_likelihood_with_every_token_missing_is_zero():
    rng = numpy.random.default_rng(3)
    chain = random_chain(rng, 5)
    assert nll(rng.normal(size=(6, 5)), chain, numpy.full(6, -1)) == pytest.approx(0.0, abs=1e-9)


def test_likelihood_sums_out_missing_tokens():
    rng = numpy.random.default_rng(4)
    chain = random_chain(rng, 3, forbid=0.0)
    emissions = rng.normal(size=(3, 3))
    gold = numpy.array([1, -1, 2])
    _, _, paths, scores = brute_force(emissions, chain)
    agreeing = [s for p, s in zip(paths, scores) if p[0] == 1 and p[2] == 2]
    expected = numpy.logaddexp.reduce(scores) - numpy.logaddexp.reduce(agreeing)
    assert nll(emissions, chain, gold) == pytest.approx(expected, rel=1e-9)


def test_gradient_matches_finite_differences():
    rng = numpy.random.default_rng(5)
    chain = random_chain(rng, 4, forbid=0.2)
    emissions = rng.normal(size=(5, 4))
    gold = numpy.array([1, -1, 3, -1, -1])
    lengths = numpy.array([5])
    free = forward_backward(emissions[None], lengths, chain)
    clamped = forward_backward(clamp_to_gold(emissions[None], [gold]), lengths, chain)
    d_emissions = (free.tags - clamped.tags)[0]
    d_transitions = free.transitions - clamped.transitions
    eps = 1e-6
    for t, k in itertools.product(range(5), range(4)):
        bumped = emissions.copy()
        bumped[t, k] += eps
        numerical = (nll(bumped, chain, gold) - nll(emissions, chain, gold)) / eps
        assert d_emissions[t, k] == pytest.approx(numerical, abs=1e-5)
    for i, j in zip(*numpy.nonzero(chain.transitions > NEVER / 2)):
        bumped = chain._replace(transitions=chain.transitions.copy())
        bumped.transitions[i, j] += eps
        numerical = (nll(emissions, bumped, gold) - nll(emissions, chain, gold)) / eps
        assert d_transitions[i, j] == pytest.approx(numerical, abs=1e-5)


@pytest.fixture(scope="module")
def crf_nlp():
    return overfit_pipeline(crf_config())


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
def test_crf_tagger_overfits_a_few_sentences(scheme):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": crf_config(), "scheme": scheme})
    losses = train_pipeline(nlp, make_examples(nlp))
    assert losses[-1] < losses[0] / 20
    assert [ents_of(nlp(text)) for text, _ in TRAIN_DATA] == GOLD
    transitions = nlp.get_pipe("lstm_ner").model.get_ref("crf").get_param("transitions")
    assert numpy.abs(transitions).max() > 0.01


def test_crf_round_trips_with_identical_predictions(crf_nlp):
    texts = [text for text, _ in TRAIN_DATA] + ["Merkel met Apple in Berlin on Friday."]
    expected = [ents_of(doc) for doc in crf_nlp.pipe(texts)]
    with make_tempdir() as path:
        crf_nlp.to_disk(path)
        loaded = spacy.load(path)
    assert [ents_of(doc) for doc in loaded.pipe(texts)] == expected
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("lstm_ner", config={"model": crf_config()})
    from_bytes.from_bytes(crf_nlp.to_bytes())
    assert [ents_of(doc) for doc in from_bytes.pipe(texts)] == expected


def test_crf_loss_gradient_matches_finite_differences(crf_nlp):
    ner = crf_nlp.get_pipe("lstm_ner")
    examples = make_examples(crf_nlp, TRAIN_DATA[:3])
    examples[1].reference.set_ents([], default="missing")
    output = ner.model.predict([eg.predicted for eg in examples])
    scores = [s.astype("float64") for s in output.emissions]
    loss, d_output = ner.get_loss(examples, CRFOutput(scores, output.chain))
    eps = 1e-4
    for i, t, k in [(0, 0, 0), (0, 3, 5), (1, 2, 1), (2, 4, 7), (2, 0, 12)]:
        bumped = [s.copy() for s in scores]
        bumped[i][t, k] += eps
        numerical = (ner.get_loss(examples, CRFOutput(bumped, output.chain))[0] - loss) / eps
        assert d_output.emissions[i][t, k] == pytest.approx(numerical, abs=1e-4)
    assert not numpy.asarray(d_output.emissions[1]).any()


def test_crf_loss_of_a_doc_does_not_depend_on_its_batch(crf_nlp):
    ner = crf_nlp.get_pipe("lstm_ner")
    examples = make_examples(crf_nlp)
    alone = examples[3]
    output = ner.model.predict([eg.predicted for eg in examples])
    _, d_alone = ner.get_loss([alone], CRFOutput([output.emissions[3]], output.chain))
    n_alone = len(alone.predicted)
    n_all = sum(len(eg.predicted) for eg in examples)
    _, d_all = ner.get_loss(examples, output)
    numpy.testing.assert_allclose(d_all.emissions[3] * n_all / n_alone, d_alone.emissions[0], atol=1e-6)


def test_invalid_gold_sequence_is_refused_naming_the_doc(crf_nlp, monkeypatch):
    ner = crf_nlp.get_pipe("lstm_ner")
    (example,) = make_examples(crf_nlp, [("Angela Merkel visited Paris", [])])
    broken = numpy.array([ner.tags.index(tag) for tag in ("B-PER", "O", "O", "U-GEO")])
    monkeypatch.setattr(ner, "_gold_tag_ids", lambda eg, tag_ids: broken)
    scores = ner.model.predict([example.predicted])
    with pytest.raises(ValueError, match="'Angela Merkel visited Paris' make no valid BILUO"):
        ner.get_loss([example], scores)
