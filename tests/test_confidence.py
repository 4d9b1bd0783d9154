"""Entity probabilities against brute-force enumeration of every tag sequence,
for both heads and both schemes, and the scores lstm_ner writes to doc.spans."""

import itertools
import json

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import make_tempdir
from util import (
    TRAIN_DATA,
    ent_offsets,
    make_examples,
    run_python,
    scored,
    small_model_config,
    train_pipeline,
)

from spacy_lstm_ner.confidence import score_entities
from spacy_lstm_ner.decoding import best_paths
from spacy_lstm_ner.heads import CRFHead, SoftmaxHead
from spacy_lstm_ner.layers.crf import CRFOutput
from spacy_lstm_ner.potentials import ChainScores
from spacy_lstm_ner.tagset import TagSet

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
            score += (
                start[ids[0]] + end[ids[-1]] + sum(transitions[a, b] for a, b in zip(ids, ids[1:]))
            )
        paths.append(path)
        scores.append(score / temperature)
    weights = numpy.exp(numpy.array(scores) - numpy.logaddexp.reduce(scores))
    spans = {}
    for start, end in itertools.combinations(range(n_tokens + 1), 2):
        for label in {tag.split("-", 1)[1] for tag in tags if tag != "O"}:
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
        learned = ChainScores(
            rng.normal(size=n_tags), rng.normal(size=(n_tags, n_tags)), rng.normal(size=n_tags)
        )
        return CRFOutput(emissions, ChainScores(*(v.astype("float32") for v in learned)))
    logits = [rng.normal(size=(n, n_tags)) * 2 for n in lengths]
    return [
        (x - numpy.logaddexp.reduce(x, axis=1, keepdims=True)).astype("float32") for x in logits
    ]


HEADS = {"crf": CRFHead(), "softmax": SoftmaxHead()}


def decoded(head, output, tagset, spaces):
    """The potentials of `output` and the best path of each doc."""
    potentials = HEADS[head].potentials(output, tagset, spaces)
    return potentials, best_paths(potentials)


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@pytest.mark.parametrize("seed", range(3))
def test_span_probabilities_match_brute_force(head, scheme, seed):
    rng = numpy.random.default_rng(seed)
    tagset = TagSet(LABELS, scheme)
    tags = tagset.tags
    lengths = [4, 1, 3]
    output = random_output(rng, lengths, len(tags), head)
    spaces = [numpy.zeros(n, bool) for n in lengths]
    spaces[0][2] = True
    temperature = [1.0, 0.7, 1.8][seed]
    potentials, paths = decoded(head, output, tagset, spaces)
    scored = score_entities(
        potentials.scaled(temperature), paths, tagset.entities(paths), tagset, threshold=1e-9
    )
    for i, (path, doc_scored) in enumerate(zip(paths, scored)):
        if head == "crf":
            expected = brute_force_spans(
                output.emissions[i], output.chain, temperature, spaces[i], tags, scheme
            )
        else:
            expected = brute_force_spans(output[i], None, temperature, spaces[i], tags, scheme)
        got = dict(zip(doc_scored.offsets, doc_scored.scores))
        for span, probability in expected.items():
            if probability >= 1e-9:
                assert got[span] == pytest.approx(probability, rel=1e-6, abs=1e-12), span
            elif span in got:
                assert got[span] == pytest.approx(probability, abs=1e-9)
        for span in tagset.entities([path])[0]:
            assert span in got
        assert all(0 < p <= 1 for p in doc_scored.scores)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
def test_without_threshold_only_the_path_entities_are_scored(scheme):
    rng = numpy.random.default_rng(4)
    tagset = TagSet(LABELS, scheme)
    lengths = [5, 2, 6]
    output = random_output(rng, lengths, len(tagset), "crf")
    spaces = [numpy.zeros(n, bool) for n in lengths]
    potentials, paths = decoded("crf", output, tagset, spaces)
    entities = tagset.entities(paths)
    scored = score_entities(potentials, paths, entities, tagset)
    with_all = score_entities(potentials, paths, entities, tagset, threshold=1e-12)
    for doc_entities, doc_scored, doc_all in zip(entities, scored, with_all):
        assert doc_scored.offsets == sorted(doc_entities)
        everything = dict(zip(doc_all.offsets, doc_all.scores))
        for span, probability in zip(doc_scored.offsets, doc_scored.scores):
            assert probability == pytest.approx(everything[span], rel=1e-9)


def test_no_span_starts_on_a_whitespace_token():
    rng = numpy.random.default_rng(5)
    tagset = TagSet(LABELS, "BILUO")
    output = random_output(rng, [4], len(tagset), "softmax")
    spaces = [numpy.array([False, True, False, False])]
    potentials, paths = decoded("softmax", output, tagset, spaces)
    scored = score_entities(potentials, paths, tagset.entities(paths), tagset, threshold=1e-12)
    assert scored[0].offsets and all(start != 1 for start, _, _ in scored[0].offsets)


# The component: scores in doc.spans, round trips, settings, calibration.

TEXTS = [text for text, _ in TRAIN_DATA] + ["Merkel flew to Berlin and Paris on Friday.", "", "  "]


def test_span_group_holds_the_entities_with_their_probabilities(head_nlp):
    for doc in head_nlp.pipe(TEXTS):
        group = doc.spans["lstm_ner"]
        assert group.name == "lstm_ner"
        assert [(s.start, s.end, s.label_) for s in group] == [
            (e.start, e.end, e.label_) for e in doc.ents
        ]
        assert len(group.attrs["scores"]) == len(group)
        assert all(0 < p <= 1 for p in group.attrs["scores"])
        probability = dict(zip(group, group.attrs["scores"]))
        assert all(
            probability[ent] == scored(doc)[(ent.start, ent.end, ent.label_)] for ent in doc.ents
        )
    assert any(doc.ents for doc in head_nlp.pipe(TEXTS))


def test_pipeline_scores_are_the_model_probabilities(trained_nlp):
    """A 3-token doc through the real pipeline against enumeration of its 17**3 tag paths."""
    doc = trained_nlp("Merkel visited Paris")
    ner = trained_nlp.get_pipe("lstm_ner")
    (log_probs,) = ner.model.predict([trained_nlp.make_doc(doc.text)])
    expected = brute_force_spans(log_probs, None, 1.0, [False] * 3, ner.tagset.tags, "BILUO")
    assert doc.ents
    for span, probability in scored(doc).items():
        assert probability == pytest.approx(expected[span], rel=1e-5)


def test_scores_survive_docbin_bytes_and_two_processes(trained_nlp):
    docs = list(trained_nlp.pipe(TEXTS))
    expected = [scored(doc) for doc in docs]
    reloaded = list(
        DocBin(docs=docs).from_bytes(DocBin(docs=docs).to_bytes()).get_docs(trained_nlp.vocab)
    )
    assert [scored(doc) for doc in reloaded] == expected
    assert [scored(Doc(trained_nlp.vocab).from_bytes(doc.to_bytes())) for doc in docs] == expected
    with make_tempdir() as path:
        trained_nlp.to_disk(path)
        code = (
            "import json, sys, spacy; nlp = spacy.load(sys.argv[1]); "
            "g = lambda d: [[s.start, s.end, s.label_, float(p)] for s, p in zip(d.spans['lstm_ner'], d.spans['lstm_ner'].attrs['scores'])]; "
            "print(json.dumps([g(d) for d in nlp.pipe(json.loads(sys.argv[2]) * 4, batch_size=2, n_process=2)]))"
        )
        got = json.loads(run_python("-c", code, path, json.dumps(TEXTS), timeout=180).stdout)
    assert len(got) == len(expected * 4)
    for doc, want in zip(got, expected * 4):
        assert [(s, e, label) for s, e, label, _ in doc] == list(want)
        assert [p for *_, p in doc] == pytest.approx(list(want.values()), rel=1e-5)


def test_scores_do_not_depend_on_batch_mates(head_nlp):
    alone = [scored(head_nlp(text)) for text in TEXTS]
    batched = [scored(doc) for doc in head_nlp.pipe(TEXTS[::-1] + ["x " * 300], batch_size=20)][
        : len(TEXTS)
    ][::-1]
    for one, many in zip(alone, batched):
        assert one.keys() == many.keys()
        assert list(one.values()) == pytest.approx(list(many.values()), rel=1e-5)


def test_threshold_adds_every_likely_span(trained_nlp):
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "lstm_ner",
        config={"model": small_model_config(), "threshold": 1e-4, "spans_key": "candidates"},
    )
    train_pipeline(nlp, make_examples(nlp), n_iter=8)
    for doc in nlp.pipe(TEXTS):
        group = scored(doc, "candidates")
        ents = {(e.start, e.end, e.label_) for e in doc.ents}
        assert ents <= group.keys()
        assert all(p >= 1e-4 for span, p in group.items() if span not in ents)
        assert "lstm_ner" not in doc.spans
    assert any(len(scored(doc, "candidates")) > len(doc.ents) for doc in nlp.pipe(TEXTS))


def test_score_ents_false_writes_no_group_and_the_same_entities(trained_nlp):
    with make_tempdir() as path:
        trained_nlp.to_disk(path)
        without = spacy.load(path, config={"components": {"lstm_ner": {"score_ents": False}}})
    for text in TEXTS:
        doc = without(text)
        assert "lstm_ner" not in doc.spans
        assert ent_offsets(doc) == ent_offsets(trained_nlp(text))


def test_kept_entities_have_no_score(trained_nlp):
    with make_tempdir() as path:
        trained_nlp.to_disk(path)
        nlp = spacy.load(path)
    ruler = nlp.add_pipe("entity_ruler", before="lstm_ner")
    ruler.add_patterns([{"label": "ORG", "pattern": "Miami"}])
    doc = nlp(TEXTS[0])
    kept = [ent for ent in doc.ents if ent.text == "Miami"]
    assert kept and kept[0].label_ == "ORG"
    probability = dict(zip(doc.spans["lstm_ner"], doc.spans["lstm_ner"].attrs["scores"]))
    assert probability.get(kept[0]) is None
    assert all(ent in probability for ent in doc.ents if ent.text != "Miami")


@pytest.mark.parametrize(
    "setting", [{"threshold": 0}, {"threshold": 1.5}, {"threshold": -0.1}, {"spans_key": ""}]
)
def test_bad_settings_are_refused_by_name(setting):
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=list(setting)[0]):
        nlp.add_pipe("lstm_ner", config=setting)
