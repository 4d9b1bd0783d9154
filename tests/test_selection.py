"""Choosing what to annotate next: the uncertainty scores against enumeration of
every tag path, `select` on a real pipeline, and the select → annotate → import
loop through the real command line."""

import itertools
import json

import numpy
import pytest
import srsly
from spacy.tokens import DocBin
from spacy.util import make_tempdir
from typer.testing import CliRunner
from util import TRAIN_DATA, potentials_of

from spacy_lstm_ner.cli import app
from spacy_lstm_ner.decoding import BestPaths, best_paths
from spacy_lstm_ner.potentials import NEVER, ChainScores
from spacy_lstm_ner.selection import (
    BadLine,
    Source,
    read_annotations,
    read_texts,
    select,
    to_task,
)
from spacy_lstm_ner.tagset import TagSet
from spacy_lstm_ner.uncertainty import uncertainties

TEXTS = [text for text, _ in TRAIN_DATA] + [
    "Merkel flew to Berlin and Paris on Friday.",
    "Sharon met Apple in Miami.",
    "",
    "The weather was fine.",
]


def brute_force(emissions, chain, tagset, best):
    """-log P(best path) per token and the expected entity errors of the best
    path's entities, by enumerating every tag path of one doc."""
    n = len(emissions)
    scores, entities = [], []
    for path in itertools.product(range(len(tagset)), repeat=n):
        path = numpy.array(path)
        score = chain.start[path[0]] + chain.end[path[-1]] + emissions[numpy.arange(n), path].sum()
        score += chain.transitions[path[:-1], path[1:]].sum()
        if score <= NEVER / 2:
            continue
        scores.append(score)
        entities.append(set(tagset.entities([path])[0]))
    weights = numpy.exp(numpy.array(scores) - numpy.logaddexp.reduce(scores))
    predicted = set(tagset.entities([best])[0])
    best_index = next(i for i, ents in enumerate(entities) if ents == predicted)
    errors = sum(w * len(predicted ^ ents) for w, ents in zip(weights, entities))
    return -numpy.log(weights[best_index]) / n, errors


@pytest.mark.parametrize("crf", [False, True])
@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
@pytest.mark.parametrize("seed", range(2))
def test_uncertainty_matches_brute_force(crf, scheme, seed):
    rng = numpy.random.default_rng(seed)
    tagset = TagSet(["geo", "per"], scheme)
    n_tags = len(tagset)
    learned = None
    if crf:
        shapes = ((n_tags,), (n_tags, n_tags), (n_tags,))
        learned = ChainScores(*(rng.normal(size=shape) for shape in shapes))
    chain = tagset.restrict(learned)
    docs = [rng.normal(scale=2.0, size=(n, n_tags)) for n in (3, 1, 4)]
    potentials = potentials_of(docs, chain)
    paths = best_paths(potentials)
    batch = BestPaths(potentials, paths, tagset.entities(paths), tagset, None)
    temperature = 1.5
    found = uncertainties(batch, temperature)
    scaled = potentials.scaled(temperature)
    for doc, path, uncertainty in zip(scaled.per_doc(), paths, found):
        mnlp, errors = brute_force(doc.astype("float64"), scaled.chain, tagset, path)
        assert uncertainty.n_tokens == len(doc)
        assert uncertainty.mnlp == pytest.approx(mnlp, rel=1e-4, abs=1e-6)
        assert uncertainty.expected_errors == pytest.approx(errors, rel=1e-4, abs=1e-6)


def sources(texts):
    return [Source(text, f"mem:{i}") for i, text in enumerate(texts)]


@pytest.mark.parametrize("strategy", ["mnlp", "entity"])
def test_select_keeps_the_most_uncertain_texts_in_order(head_nlp, strategy):
    everything = select(head_nlp, sources(TEXTS), len(TEXTS), strategy=strategy, batch_size=3)
    scores = [item.score for item in everything]
    assert scores == sorted(scores, reverse=True) and len(everything) == len(TEXTS)
    top = select(head_nlp, sources(TEXTS), 3, strategy=strategy, batch_size=2)
    assert [item.where for item in top] == [item.where for item in everything[:3]]
    assert [item.score for item in top] == pytest.approx(scores[:3])
    alone = select(head_nlp, sources([everything[0].doc.text]), 1, strategy=strategy)
    assert alone[0].score == pytest.approx(everything[0].score, rel=1e-5)


def test_random_selection_is_seeded_uniform_and_in_input_order(trained_nlp):
    picks = [
        [item.where for item in select(trained_nlp, sources(TEXTS), 3, strategy="random", seed=s)]
        for s in range(20)
    ]
    assert picks[0] == [
        item.where for item in select(trained_nlp, sources(TEXTS), 3, strategy="random", seed=0)
    ]
    assert all(p == sorted(p, key=lambda where: int(where[4:])) for p in picks)
    assert len({tuple(p) for p in picks}) > 5


def test_bad_lines_are_reported_by_file_and_line_and_the_rest_kept(trained_nlp):
    with make_tempdir() as tmp:
        path = tmp / "texts.jsonl"
        path.write_bytes(
            b'{"text": "Sharon flew to Miami."}\n'
            b"not json\n"
            b"\n"
            b'{"content": "no text key"}\n'
            b'{"text": "caf\xff"}\n'
            b'{"text": "Merkel visited Paris."}\n'
        )
        bad = []
        chosen = select(trained_nlp, read_texts(path), 5, on_bad_line=bad.append)
    assert sorted(item.where for item in chosen) == [f"{path}:1", f"{path}:6"]
    assert [(b.line, b.problem.split(" ")[0]) for b in bad] == [(2, "not"), (4, "no"), (5, "not")]
    assert str(bad[0]).startswith(f"{path}, line 2: not valid JSON")


def test_select_reads_text_and_docbin_files(trained_nlp):
    with make_tempdir() as tmp:
        (tmp / "texts.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf8")
        docs = [trained_nlp.make_doc(text) for text in TEXTS]
        DocBin(docs=docs).to_disk(tmp / "texts.spacy")
        from_text = select(trained_nlp, read_texts(tmp / "texts.txt"), 4)
        from_docbin = select(trained_nlp, read_texts(tmp / "texts.spacy"), 4)
    assert [item.doc.text for item in from_text] == [item.doc.text for item in from_docbin]
    assert [item.score for item in from_text] == pytest.approx([i.score for i in from_docbin])


def test_task_lines_hold_text_spans_and_why(head_nlp):
    (item,) = select(head_nlp, sources([TEXTS[0]]), 1)
    task = to_task(item, "mnlp", "lstm_ner")
    doc = item.doc
    assert task["text"] == doc.text and doc.ents
    assert [(s["start"], s["end"], s["label"]) for s in task["spans"]] == [
        (e.start_char, e.end_char, e.label_) for e in doc.ents
    ]
    assert all(0 < s["score"] <= 1 for s in task["spans"])
    assert task["meta"]["score"] == pytest.approx(task["meta"]["mnlp"])
    assert task["meta"]["source"] == "mem:0" and task["meta"]["tokens"] == len(doc)
    json.dumps(task)


def test_select_refuses_bad_settings(trained_nlp):
    with pytest.raises(ValueError, match="Unknown strategy 'bald'"):
        select(trained_nlp, [], 3, strategy="bald")
    with pytest.raises(ValueError, match="n >= 1"):
        select(trained_nlp, [], 0)
    with pytest.raises(ValueError, match="no component 'ner'"):
        select(trained_nlp, [], 3, component="ner")


def test_select_annotate_import_loop_on_the_command_line(trained_nlp):
    """select writes tasks; an annotator fixes one and rejects one; import
    turns the answers into a DocBin whose entities are the annotated spans."""
    runner = CliRunner()
    with make_tempdir() as tmp:
        trained_nlp.to_disk(tmp / "model")
        (tmp / "texts.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf8")
        result = runner.invoke(
            app,
            ["select", str(tmp / "model"), str(tmp / "texts.txt"), str(tmp / "tasks.jsonl")]
            + ["--n", "4", "--strategy", "entity"],
        )
        assert result.exit_code == 0, result.output
        assert "Chose 4 of" in result.output
        tasks = list(srsly.read_jsonl(tmp / "tasks.jsonl"))
        assert len(tasks) == 4
        tasks[0]["spans"] = [{"start": 0, "end": len(tasks[0]["text"].split()[0]), "label": "X"}]
        tasks[1]["answer"] = "reject"
        tasks[2]["spans"] = [{"start": 1, "end": 3, "label": "X"}]  # inside a token
        srsly.write_jsonl(tmp / "answers.jsonl", tasks)
        result = runner.invoke(
            app,
            ["import", str(tmp / "answers.jsonl"), str(tmp / "train.spacy")]
            + ["--model", str(tmp / "model")],
        )
        assert result.exit_code == 0, result.output
        assert "answers.jsonl, line 3: the span 1-3" in result.output
        docs = list(DocBin().from_disk(tmp / "train.spacy").get_docs(trained_nlp.vocab))
        bad = list(read_annotations(trained_nlp, tmp / "answers.jsonl"))
    assert [doc.text for doc in docs] == [tasks[0]["text"], tasks[3]["text"]]
    assert [(e.start_char, e.end_char, e.label_) for e in docs[0].ents] == [
        (0, len(tasks[0]["text"].split()[0]), "X")
    ]
    assert [(e.start_char, e.end_char, e.label_) for e in docs[1].ents] == [
        (s["start"], s["end"], s["label"]) for s in tasks[3]["spans"]
    ]
    assert all(token.ent_iob_ in ("B", "I", "O") for doc in docs for token in doc)
    assert [item.line for item in bad if isinstance(item, BadLine)] == [3]
