"""Adding entity types to a trained lstm_ner: in Python, through `spacy train`
with a sourced component, and across save/load."""

import random
from itertools import islice

import numpy
import pytest
import spacy
import srsly
from convert_gmb import read_gmb_csv, sentence_to_doc
from spacy.training import Example
from spacy.util import make_tempdir
from thinc.api import Adam
from util import (
    GMB_CSV,
    TRAIN_DATA,
    crf_config,
    ent_offsets,
    ents_of,
    make_examples,
    overfit_pipeline,
    run_python,
    small_model_config,
    spacy_train,
    write_corpus,
)

from benchmarks import add_label

FAST = ["--training.batcher.size", "5", "--training.optimizer.learn_rate", "0.01"]
TINY_MODEL = [
    "--components.lstm_ner.model.hidden_width",
    "16",
    "--components.lstm_ner.model.embed.widths",
    "[8,4,4,4]",
]
HEADS = {"softmax": small_model_config, "crf": crf_config}
TEXTS = [text for text, _ in TRAIN_DATA] + [
    "Merkel met Apple in Miami on Friday.",
    "Sharon visited Berlin.",
]
PRODUCT_DATA = [
    ("He bought an iPhone in Paris.", [(13, 19, "PRODUCT"), (23, 28, "GEO")]),
    ("Apple sold the iPhone in Berlin.", [(0, 5, "ORG"), (15, 21, "PRODUCT"), (25, 31, "GEO")]),
]


def predictions(nlp, texts=TEXTS):
    """Each doc's entities and their probabilities."""
    return [(ent_offsets(doc), doc.spans["lstm_ner"].attrs["scores"]) for doc in nlp.pipe(texts)]


def assert_same_predictions(before, after):
    for (ents, scores), (ents_after, scores_after) in zip(before, after):
        assert ents_after == ents
        numpy.testing.assert_allclose(scores_after, scores, rtol=0, atol=1e-6)


@pytest.fixture(params=sorted(HEADS))
def grown(request):
    """A pipeline overfit on TRAIN_DATA, its predictions, and the same pipeline
    after add_label("PRODUCT")."""
    nlp = overfit_pipeline(HEADS[request.param]())
    before = predictions(nlp)
    ner = nlp.get_pipe("lstm_ner")
    assert ner.add_label("PRODUCT") == 1
    return nlp, before, request.param


def test_add_label_keeps_every_entity_and_score(grown):
    nlp, before, _ = grown
    ner = nlp.get_pipe("lstm_ner")
    assert ner.labels == ("GEO", "ORG", "PER", "PRODUCT", "TIM")
    assert ner.model.get_ref("output_layer").get_dim("nO") == len(ner.tags) == 1 + 4 * 5
    assert ner.cfg["unseen_labels"] == ["PRODUCT"]
    assert ner.add_label("PRODUCT") == 0
    assert_same_predictions(before, predictions(nlp))


def test_add_label_keeps_the_old_tags_weights(grown):
    nlp, _, head = grown
    ner = nlp.get_pipe("lstm_ner")
    W = ner.model.get_ref("output_layer").get_param("W")
    new_rows = [i for i, tag in enumerate(ner.tags) if tag.endswith("-PRODUCT")]
    assert not W[new_rows].any()
    if head == "crf":
        transitions = ner.model.get_ref("crf").get_param("transitions")
        assert transitions.shape == (len(ner.tags), len(ner.tags))
        assert not transitions[new_rows].any() and not transitions[:, new_rows].any()


def test_grown_pipeline_round_trips(grown):
    nlp, before, head = grown
    with make_tempdir() as tmp:
        nlp.to_disk(tmp / "grown")
        loaded = spacy.load(tmp / "grown")
    ner = loaded.get_pipe("lstm_ner")
    assert "PRODUCT" in ner.labels and ner.cfg["unseen_labels"] == ["PRODUCT"]
    assert_same_predictions(before, predictions(loaded))
    fresh = spacy.blank("en").add_pipe("lstm_ner", config={"model": HEADS[head]()})
    data = srsly.msgpack_loads(nlp.get_pipe("lstm_ner").to_bytes())
    cfg = srsly.json_loads(data["cfg"])
    data["cfg"] = srsly.json_dumps(
        {**cfg, "labels": [label for label in cfg["labels"] if label != "PRODUCT"]}
    )
    with pytest.raises(ValueError, match="scores 21 tags.*make 17 BILUO tags"):
        fresh.from_bytes(srsly.msgpack_dumps(data))


def test_updates_learn_the_added_label(grown):
    nlp, _, _ = grown
    ner = nlp.get_pipe("lstm_ner")
    examples = make_examples(nlp, TRAIN_DATA + PRODUCT_DATA)
    optimizer = nlp.resume_training()
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    assert ner.cfg["unseen_labels"] == []
    assert ents_of(nlp("He bought an iPhone in Paris.")) == [
        ("iPhone", "PRODUCT"),
        ("Paris", "GEO"),
    ]
    assert ents_of(nlp(TRAIN_DATA[0][0])) == [
        ("Sharon", "PER"),
        ("Miami", "GEO"),
        ("last Friday", "TIM"),
    ]


@pytest.mark.parametrize("head", sorted(HEADS))
def test_update_adds_the_labels_of_its_examples_mid_training(head):
    """As with spaCy's `ner`, a gold label the component lacks is added on
    update, and the optimizer's state for the grown weights starts afresh."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": HEADS[head]()})
    optimizer = Adam(0.01, use_averages=True)
    nlp.initialize(lambda: make_examples(nlp), sgd=optimizer)
    for _ in range(5):
        nlp.update(make_examples(nlp), sgd=optimizer)
    examples = make_examples(nlp, TRAIN_DATA + PRODUCT_DATA)
    for _ in range(80):
        nlp.update(examples, sgd=optimizer)
    assert "PRODUCT" in ner.labels and ner.cfg["unseen_labels"] == []
    with nlp.use_params(optimizer.averages):
        assert ("iPhone", "PRODUCT") in ents_of(nlp("He bought an iPhone in Paris."))


def test_spacy_train_sources_a_trained_component_and_learns_a_new_label():
    """The config route: `[components.lstm_ner] source = ...` and training
    data with a label the sourced component lacks."""
    with make_tempdir() as tmp:
        write_corpus(tmp / "train.spacy")
        spacy_train(
            tmp,
            "base",
            "--training.max_steps",
            "40",
            "--training.eval_frequency",
            "40",
            *FAST,
            *TINY_MODEL,
        )
        write_corpus(tmp / "grown.spacy", TRAIN_DATA + PRODUCT_DATA)
        base = spacy.load(tmp / "base" / "model-last")
        config = base.config.copy()
        config["components"]["lstm_ner"] = {"source": str(tmp / "base" / "model-last")}
        config.to_disk(tmp / "sourced.cfg")
        spacy_train(
            tmp,
            "grown",
            "--training.max_steps",
            "120",
            "--training.eval_frequency",
            "60",
            *FAST,
            train="grown.spacy",
            dev="grown.spacy",
            config=tmp / "sourced.cfg",
        )
        grown = spacy.load(tmp / "grown" / "model-last")
        assert "PRODUCT" not in base.get_pipe("lstm_ner").labels
        assert "PRODUCT" in grown.get_pipe("lstm_ner").labels
        assert ("iPhone", "PRODUCT") in ents_of(grown("He bought an iPhone in Paris."))
        scores = run_python(
            "-m", "spacy", "evaluate", tmp / "grown" / "model-last", tmp / "grown.spacy"
        ).stdout
        assert "PRODUCT" in scores


def test_fine_tuning_learns_a_new_type_and_keeps_the_old_ones():
    """A pipeline trained on GMB sentences without `tim`, given the label and
    fine-tuned on a mix of `tim` and old examples (benchmarks/add_label.py):
    it learns `tim` and the old types' F on held-out sentences moves by at most 2 points."""
    nlp = spacy.blank("en")
    docs = [
        sentence_to_doc(nlp.vocab, sentence) for sentence in islice(read_gmb_csv(GMB_CSV), 2000)
    ]
    held_out, train = docs[:400], docs[400:]
    nlp.add_pipe("lstm_ner", config={"model": small_model_config(hidden_width=64)})
    base = [Example(add_label.bare(doc), add_label.without_label(doc, "tim")) for doc in train]
    optimizer = nlp.initialize(lambda: base)
    assert "tim" not in nlp.get_pipe("lstm_ner").labels
    rng = random.Random(0)
    for _ in range(600):
        nlp.update(rng.sample(base, 32), sgd=optimizer, drop=0.2)
    result = add_label.add_label_run(
        nlp, train, held_out, "tim", steps=150, batch_size=32, drop=0.2
    )
    assert result["before"]["new"]["f"] == 0.0
    assert result["after"]["new"]["f"] > 0.6
    assert result["after"]["old"]["f"] > result["before"]["old"]["f"] - 0.02
