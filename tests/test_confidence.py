"""Entity probabilities against brute-force enumeration of every tag sequence,
for both heads and both schemes, and the scores lstm_ner writes to doc.spans."""
import itertools

import numpy
import pytest

from spacy_lstm_ner.confidence import crf_weights, score_entities, softmax_weights
from spacy_lstm_ner.crf import ChainScores, CRFOutput, crf_decode
from spacy_lstm_ner.decoding import softmax_decode
from spacy_lstm_ner.tags import entity_offsets, tag_names

LABELS = ["geo", "per"]


def entity_tags(length, label, scheme):
    if scheme == "IOB":
        return [f"B-{label}"] + [f"I-{label}"] * (length - 1)
    if length == 1:
        return [f"U-{label}"]
    return [f"B-{label}"] + [f"I-{label}"] * (length - 2) + [f"L-{label}"]


def is_valid(path, scheme, spaces):
    """An independent statement of the schemes' rules, and of no entity
    opening on a whitespace token."""
    for t, tag in enumerate(path):
        prefix, _, label = tag.partition("-")
        previous = path[t - 1] if t else "O"
        inside = previous[:1] in "BI" and previous != "O"
        if prefix in ("B", "U") and spaces[t]:
            return False
        if prefix == "I" or (prefix == "L" and scheme == "BILUO"):
            if not inside or previous[2:] != label:
                return False
        elif scheme == "BILUO" and inside:
            return False
    return scheme == "IOB" or path[-1][:1] in ("O", "L", "U")


def brute_force_spans(emissions, chain, temperature, spaces, tags, scheme):
    """P(span carries exactly that entity) for every span and label, by
    enumerating every valid tag sequence of one doc: a path weighs
    exp(score / temperature), its score the sum of its emissions and, for a
    CRF (`chain` not None), of its start, transition and end scores."""
    n_tokens = len(emissions)
    paths, scores = [], []
    for ids in itertools.product(range(len(tags)), repeat=n_tokens):
        path = [tags[j] for j in ids]
        if not is_valid(path, scheme, spaces):
            continue
        score = sum(float(emissions[t, j]) for t, j in enumerate(ids))
        if chain is not None:
            start, transitions, end = (values.astype("float64") for values in chain)
            score += start[ids[0]] + end[ids[-1]] + sum(transitions[a, b] for a, b in zip(ids, ids[1:]))
        paths.append(path)
        scores.append(score / temperature)
    weights = numpy.exp(numpy.array(scores) - numpy.logaddexp.reduce(scores))
    spans = {}
    for start, end in itertools.combinations(range(n_tokens + 1), 2):
        for label in LABELS:
            wanted = entity_tags(end - start, label, scheme)
            spans[(start, end, label)] = sum(
                weight
                for path, weight in zip(paths, weights)
                if path[start:end] == wanted and (end == n_tokens or path[end] != f"I-{label}")
            )
    return spans


def random_output(rng, lengths, n_tags, head):
    if head == "crf":
        emissions = [rng.normal(size=(n, n_tags)).astype("float32") for n in lengths]
        learned = ChainScores(rng.normal(size=n_tags), rng.normal(size=(n_tags, n_tags)), rng.normal(size=n_tags))
        return CRFOutput(emissions, ChainScores(*(v.astype("float32") for v in learned)))
    logits = [rng.normal(size=(n, n_tags)) * 2 for n in lengths]
    return [(x - numpy.logaddexp.reduce(x, axis=1, keepdims=True)).astype("float32") for x in logits]


def offsets(paths, tags):
    return [entity_offsets(path, tags) for path in paths]


HEADS = {"crf": (crf_weights, crf_decode), "softmax": (softmax_weights, softmax_decode)}


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@pytest.mark.parametrize("seed", range(3))
def test_span_probabilities_match_brute_force(head, scheme, seed):
    rng = numpy.random.default_rng(seed)
    tags = tuple(tag_names(LABELS, scheme))
    lengths = [4, 1, 3]
    output = random_output(rng, lengths, len(tags), head)
    spaces = [numpy.zeros(n, bool) for n in lengths]
    spaces[0][2] = True
    weights, decode = HEADS[head]
    temperature = [1.0, 0.7, 1.8][seed]
    weights = weights(output, scheme, spaces, temperature)
    paths = decode(output, scheme, spaces)
    scored = score_entities(weights, paths, offsets(paths, tags), tags, scheme, threshold=1e-9)
    for i, (path, doc_scored) in enumerate(zip(paths, scored)):
        if head == "crf":
            expected = brute_force_spans(output.emissions[i], output.chain, temperature, spaces[i], tags, scheme)
        else:
            expected = brute_force_spans(output[i], None, temperature, spaces[i], tags, scheme)
        got = dict(zip(doc_scored.offsets, doc_scored.scores))
        for span, probability in expected.items():
            if probability >= 1e-9:
                assert got[span] == pytest.approx(probability, rel=1e-6, abs=1e-12), span
            elif span in got:
                assert got[span] == pytest.approx(probability, abs=1e-9)
        for span in entity_offsets(path, tags):
            assert span in got
        assert all(0 < p <= 1 for p in doc_scored.scores)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
def test_without_threshold_only_the_path_entities_are_scored(scheme):
    rng = numpy.random.default_rng(4)
    tags = tuple(tag_names(LABELS, scheme))
    lengths = [5, 2, 6]
    output = random_output(rng, lengths, len(tags), "crf")
    spaces = [numpy.zeros(n, bool) for n in lengths]
    weights = crf_weights(output, scheme, spaces, 1.0)
    paths = crf_decode(output, scheme, spaces)
    scored = score_entities(weights, paths, offsets(paths, tags), tags, scheme)
    with_all = score_entities(weights, paths, offsets(paths, tags), tags, scheme, threshold=1e-12)
    for path, doc_scored, doc_all in zip(paths, scored, with_all):
        assert doc_scored.offsets == sorted(entity_offsets(path, tags))
        everything = dict(zip(doc_all.offsets, doc_all.scores))
        for span, probability in zip(doc_scored.offsets, doc_scored.scores):
            assert probability == pytest.approx(everything[span], rel=1e-9)


def test_no_span_starts_on_a_whitespace_token():
    rng = numpy.random.default_rng(5)
    tags = tuple(tag_names(LABELS, "BILUO"))
    output = random_output(rng, [4], len(tags), "softmax")
    spaces = [numpy.array([False, True, False, False])]
    weights = softmax_weights(output, "BILUO", spaces, 1.0)
    paths = softmax_decode(output, "BILUO", spaces)
    scored = score_entities(weights, paths, offsets(paths, tags), tags, "BILUO", threshold=1e-12)
    assert scored[0].offsets and all(start != 1 for start, _, _ in scored[0].offsets)
