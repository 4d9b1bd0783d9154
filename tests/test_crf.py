"""The linear-chain CRF: its thinc layer, its loss and Viterbi decoding against
brute force and finite differences, and the CRF tagger in a real pipeline."""

import numpy
import pytest
import spacy
import torch
from spacy.util import make_tempdir
from thinc.api import NumpyOps
from util import (
    GOLD,
    TRAIN_DATA,
    all_paths,
    brute_force,
    crf_config,
    ents_of,
    make_examples,
    path_score,
    potentials_of,
    random_chain,
    train_pipeline,
)

import spacy_lstm_ner.pipe
from spacy_lstm_ner.decoding import viterbi
from spacy_lstm_ner.lattice import forward_backward
from spacy_lstm_ner.layers.crf import CRFOutput, crf_layer
from spacy_lstm_ner.losses import CRFLoss, log_partitions
from spacy_lstm_ner.potentials import NEVER, ChainScores, Potentials
from spacy_lstm_ner.tagset import TagSet


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_matches_brute_force_over_valid_paths(seed):
    rng = numpy.random.default_rng(seed)
    chain = random_chain(rng, 4)
    docs = [rng.normal(size=(n, 4)).astype("float32") for n in (3, 1, 4, 0, 2)]
    for emissions, path in zip(docs, viterbi(potentials_of(docs, chain))):
        if not len(emissions):
            assert len(path) == 0
            continue
        paths = all_paths(len(emissions), 4)
        best = paths[int(numpy.argmax([path_score(emissions, chain, p) for p in paths]))]
        numpy.testing.assert_array_equal(path, best)
        assert path_score(emissions, chain, path) > NEVER / 2


def nll(emissions, chain, gold):
    """The CRF loss of one doc, not divided by its annotated tokens."""
    masks = [torch.as_tensor(values > NEVER / 2) for values in chain]
    log_z, paths_left = log_partitions(
        torch.as_tensor(emissions, dtype=torch.float64)[None],
        torch.as_tensor([len(emissions)]),
        [torch.as_tensor(values, dtype=torch.float64) for values in chain],
        masks,
        torch.as_tensor(gold)[None],
    )
    assert paths_left.all()
    return float(log_z[0] - log_z[1])


def test_likelihood_with_every_token_missing_is_zero():
    rng = numpy.random.default_rng(3)
    chain = random_chain(rng, 5)
    assert nll(rng.normal(size=(6, 5)), chain, numpy.full(6, -1)) == pytest.approx(0.0, abs=1e-9)


def test_likelihood_sums_out_missing_tokens():
    rng = numpy.random.default_rng(4)
    chain = random_chain(rng, 3, forbid=0.0)
    emissions = rng.normal(size=(3, 3))
    gold = numpy.array([1, -1, 1])
    _, _, paths, scores = brute_force(emissions, chain)
    agreeing = [s for p, s in zip(paths, scores) if p[0] == 1 and p[2] == 1]
    expected = numpy.logaddexp.reduce(scores) - numpy.logaddexp.reduce(agreeing)
    assert nll(emissions, chain, gold) == pytest.approx(expected, rel=1e-9)


def clamped(potentials, gold):
    """`potentials` with every tag that disagrees with a known gold tag at NEVER."""
    emissions = potentials.emissions.astype("float64")
    known = numpy.flatnonzero(gold >= 0)
    keep = emissions[known, gold[known]]
    emissions[known] = NEVER
    emissions[known, gold[known]] = keep
    return potentials._replace(emissions=emissions)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@pytest.mark.parametrize("seed", range(3))
def test_loss_and_gradient_are_the_marginals_of_forward_backward(scheme, seed):
    """The loss is log Z less log Z of the paths that agree with the gold tags;
    its gradient, the marginals of all paths less those of the agreeing paths,
    as the lattice's forward-backward computes them, over a padded batch with
    missing tokens and a doc without any gold tag."""
    rng = numpy.random.default_rng(seed)
    tagset = TagSet(["geo", "per"], scheme)
    lengths = [5, 2, 7, 3]
    n = len(tagset)
    learned = [rng.normal(size=shape).astype("float32") for shape in ((n,), (n, n), (n,))]
    output = CRFOutput(
        [rng.normal(size=(length, n)).astype("float32") for length in lengths],
        ChainScores(*learned),
    )
    paths = viterbi(
        tagset.potentials(output.emissions, output.chain, [numpy.zeros(n) for n in lengths])
    )
    truths = [path.copy() for path in paths]
    truths[0][[1, 3]] = -1
    truths[2][:] = -1
    d_output, loss = CRFLoss(tagset)(output, truths)
    potentials = Potentials(
        numpy.concatenate(output.emissions), numpy.array(lengths), tagset.restrict(output.chain)
    )
    free = forward_backward(potentials)
    gold = clamped(potentials, numpy.concatenate(truths))
    agreeing = forward_backward(gold)
    n_annotated = sum(int((truth >= 0).sum()) for truth in truths)
    assert loss == pytest.approx((free.log_z - agreeing.log_z).sum() / n_annotated, rel=1e-6)
    for i, n in enumerate(lengths):
        expected = (free.tags[i, :n] - agreeing.tags[i, :n]) / n_annotated
        numpy.testing.assert_allclose(d_output.emissions[i], expected, atol=1e-6)
    for name in ChainScores._fields:
        expected = (getattr(free, name) - getattr(agreeing, name)) / n_annotated
        numpy.testing.assert_allclose(getattr(d_output.chain, name), expected, atol=1e-6)


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


def test_a_doc_without_annotation_gets_no_gradient(crf_nlp):
    ner = crf_nlp.get_pipe("lstm_ner")
    examples = make_examples(crf_nlp, TRAIN_DATA[:3])
    examples[1].reference.set_ents([], default="missing")
    output = ner.model.predict([eg.predicted for eg in examples])
    loss, d_output = ner.get_loss(examples, output)
    assert loss > 0 and numpy.asarray(d_output.emissions[0]).any()
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
    numpy.testing.assert_allclose(
        d_all.emissions[3] * n_all / n_alone, d_alone.emissions[0], atol=1e-6
    )


def test_invalid_gold_sequence_is_refused_naming_the_doc(crf_nlp, monkeypatch):
    ner = crf_nlp.get_pipe("lstm_ner")
    (example,) = make_examples(crf_nlp, [("Angela Merkel visited Paris", [])])
    broken = numpy.array([ner.tags.index(tag) for tag in ("B-PER", "O", "O", "U-GEO")])
    monkeypatch.setattr(spacy_lstm_ner.pipe, "gold_tag_ids", lambda *args: broken)
    scores = ner.model.predict([example.predicted])
    with pytest.raises(ValueError, match="'Angela Merkel visited Paris' make no valid BILUO"):
        ner.get_loss([example], scores)


# The CRF as one thinc layer: its backprop increments its own start, transition
# and end gradients, which match finite differences of CRFLoss.

TAGSET = TagSet(["geo", "per"], "BILUO")
TAGS = TAGSET.tags
T = {tag: i for i, tag in enumerate(TAGS)}
LAYER_GOLD = [
    numpy.array([T["B-geo"], T["L-geo"], T["O"], T["U-per"]]),
    numpy.array([-1, T["O"], -1]),
    numpy.array([T["U-geo"]]),
]


def random_layer(seed):
    rng = numpy.random.default_rng(seed)
    layer = crf_layer(nO=len(TAGS))
    layer.initialize()
    for name in ChainScores._fields:
        shape = layer.get_param(name).shape
        layer.set_param(name, rng.normal(scale=0.5, size=shape).astype("float32"))
    emissions = [rng.normal(size=(len(gold), len(TAGS))).astype("float32") for gold in LAYER_GOLD]
    return layer, emissions


def loss_of(layer, emissions):
    output = layer.predict(emissions)
    return CRFLoss(TAGSET).get_loss(output, LAYER_GOLD)


@pytest.mark.parametrize("seed", range(3))
def test_layer_gradients_match_finite_differences(seed):
    layer, emissions = random_layer(seed)
    output, backprop = layer.begin_update(emissions)
    assert isinstance(output, CRFOutput) and output.emissions is emissions
    d_output, _ = CRFLoss(TAGSET)(output, LAYER_GOLD)
    d_emissions = backprop(d_output)
    eps = 1e-2
    for name in ChainScores._fields:
        gradient = layer.get_grad(name)
        values = layer.get_param(name)
        for index in numpy.ndindex(values.shape):
            bumped = values.copy()
            bumped[index] += eps
            layer.set_param(name, bumped)
            up = loss_of(layer, emissions)
            bumped[index] -= 2 * eps
            layer.set_param(name, bumped)
            down = loss_of(layer, emissions)
            layer.set_param(name, values)
            assert gradient[index] == pytest.approx((up - down) / (2 * eps), abs=2e-4), (
                name,
                index,
            )
    for i, t, k in [(0, 0, T["B-geo"]), (0, 2, T["O"]), (1, 0, T["U-per"]), (2, 0, T["B-per"])]:
        bumped = [e.copy() for e in emissions]
        bumped[i][t, k] += eps
        up = loss_of(layer, bumped)
        bumped[i][t, k] -= 2 * eps
        down = loss_of(layer, bumped)
        assert d_emissions[i][t, k] == pytest.approx((up - down) / (2 * eps), abs=2e-4)


def test_forbidden_moves_get_no_gradient():
    layer, emissions = random_layer(4)
    output, backprop = layer.begin_update(emissions)
    backprop(CRFLoss(TAGSET).get_grad(output, LAYER_GOLD))
    gradient = layer.get_grad("transitions")
    assert gradient[T["O"], T["I-geo"]] == 0.0 and gradient[T["B-geo"], T["O"]] == 0.0
    assert gradient[T["B-geo"], T["L-geo"]] != 0.0


def test_loss_of_unannotated_docs_is_zero_with_zero_gradients():
    layer, emissions = random_layer(5)
    d_output, loss = CRFLoss(TAGSET)(
        layer.predict(emissions), [numpy.full(len(g), -1) for g in LAYER_GOLD]
    )
    assert loss == 0.0
    assert not any(d.any() for d in d_output.emissions) and not any(d.any() for d in d_output.chain)
    assert isinstance(NumpyOps().asarray(d_output.chain.transitions), numpy.ndarray)
