"""The lstm_ner component in real pipelines: training, prediction, serialization."""

import numpy
import pytest
import spacy
import srsly
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import fix_random_seed, make_tempdir, registry
from util import (
    GOLD,
    TRAIN_DATA,
    ents_of,
    make_examples,
    small_model_config,
    train_pipeline,
)


@pytest.mark.parametrize("scheme", ["BILUO", "IOB"])
def test_overfits_a_few_sentences(scheme):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config(), "scheme": scheme})
    losses = train_pipeline(nlp, make_examples(nlp))
    assert losses[-1] < losses[0] / 20
    assert ner.labels == ("GEO", "ORG", "PER", "TIM")
    assert [ents_of(nlp(text)) for text, _ in TRAIN_DATA] == GOLD


def test_unidirectional_course_model_overfits():
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "lstm_ner", config={"model": small_model_config(bidirectional=False), "scheme": "IOB"}
    )
    losses = train_pipeline(nlp, make_examples(nlp), n_iter=150)
    assert losses[-1] < losses[0] / 10
    assert ents_of(nlp(TRAIN_DATA[0][0])) == GOLD[0]


def test_disk_round_trip_predicts_identically(trained_nlp):
    texts = [text for text, _ in TRAIN_DATA] + ["Merkel met Sharon in Miami."]
    with make_tempdir() as tmp:
        trained_nlp.to_disk(tmp)
        loaded = spacy.load(tmp)
    for text in texts:
        assert ents_of(loaded(text)) == ents_of(trained_nlp(text))
    docs = [trained_nlp.make_doc(text) for text in texts]
    expected = trained_nlp.get_pipe("lstm_ner").model.predict(docs)
    for got, want in zip(loaded.get_pipe("lstm_ner").model.predict(docs), expected):
        numpy.testing.assert_array_equal(got, want)


def test_bytes_round_trip_predicts_identically(trained_nlp):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    nlp.from_bytes(trained_nlp.to_bytes())
    assert nlp.get_pipe("lstm_ner").labels == trained_nlp.get_pipe("lstm_ner").labels
    for text, _ in TRAIN_DATA:
        assert ents_of(nlp(text)) == ents_of(trained_nlp(text))


def test_component_bytes_round_trip(trained_nlp):
    ner = trained_nlp.get_pipe("lstm_ner")
    nlp = spacy.blank("en")
    fresh = nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    fresh.from_bytes(ner.to_bytes())
    doc = nlp.make_doc(TRAIN_DATA[2][0])
    assert ents_of(fresh(doc)) == GOLD[2]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_pipe_equals_call(trained_nlp, batch_size):
    texts = [text for text, _ in TRAIN_DATA] + ["", " ", "Paris", "Sharon, Sharon and Merkel."]
    piped = [ents_of(doc) for doc in trained_nlp.pipe(texts, batch_size=batch_size)]
    assert piped == [ents_of(trained_nlp(text)) for text in texts]


def test_empty_docs(trained_nlp):
    docs = list(trained_nlp.pipe(["", "   ", ""]))
    assert [len(doc.ents) for doc in docs] == [0, 0, 0]
    assert all(token.ent_iob_ == "O" for token in docs[1])


def add_ruler(nlp, pattern, label):
    ruler = nlp.add_pipe("entity_ruler", before="lstm_ner")
    ruler.add_patterns([{"label": label, "pattern": pattern}])


def test_keeps_entities_already_set(trained_nlp):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", source=trained_nlp)
    add_ruler(nlp, "Miami last", "CITY")
    # "last Friday" overlaps the ruler's span and is dropped; "Sharon" is kept.
    assert ents_of(nlp(TRAIN_DATA[0][0])) == [("Sharon", "PER"), ("Miami last", "CITY")]


def test_overwrite_ents_replaces_entities_already_set(trained_nlp):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", source=trained_nlp)
    ner.cfg["overwrite_ents"] = True
    add_ruler(nlp, "Miami last", "CITY")
    try:
        assert ents_of(nlp(TRAIN_DATA[0][0])) == GOLD[0]
    finally:
        ner.cfg["overwrite_ents"] = False  # the sourced component is the shared fixture's


def test_overwrite_ents_is_a_config_setting():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"overwrite_ents": True})
    assert ner.cfg["overwrite_ents"] is True
    assert nlp.config["components"]["lstm_ner"]["overwrite_ents"] is True


def test_loss_is_masked_where_gold_is_missing():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    nlp.initialize(lambda: make_examples(nlp))
    words = ["Sharon", "flew", "to", "Miami", "today"]
    full = Doc(nlp.vocab, words=words, ents=["B-PER", "O", "O", "B-GEO", "O"])
    partial = Doc(nlp.vocab, words=words, ents=["B-PER", "", "", "B-GEO", "O"])
    predicted = nlp.make_doc(" ".join(words))
    scores = ner.model.predict([predicted])
    full_loss, full_grad = ner.get_loss([Example(predicted, full)], scores)
    loss, (grad,) = ner.get_loss([Example(predicted, partial)], scores)
    tag = {t: i for i, t in enumerate(ner.tags)}
    gold = [(0, tag["U-PER"]), (3, tag["U-GEO"]), (4, tag["O"])]
    expected = -numpy.mean([scores[0][i, j] for i, j in gold])
    assert loss == pytest.approx(expected, rel=1e-5)
    assert loss != pytest.approx(full_loss)
    assert not grad[1].any() and not grad[2].any()
    assert grad[0, tag["U-PER"]] == pytest.approx(-1 / 3)


def test_unannotated_docs_give_no_loss_and_no_gradient():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    optimizer = nlp.initialize(lambda: make_examples(nlp))
    doc = nlp.make_doc("Nobody annotated this sentence")
    example = Example(doc, nlp.make_doc(doc.text))
    loss, (grad,) = ner.get_loss([example], ner.model.predict([doc]))
    assert loss == 0.0 and grad.shape == (4, len(ner.tags)) and not grad.any()
    assert nlp.update([example], sgd=optimizer)["lstm_ner"] == 0.0


def test_nan_loss_raises():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    nlp.initialize(lambda: make_examples(nlp))
    examples = make_examples(nlp)[:1]
    scores = ner.model.predict([eg.predicted for eg in examples])
    scores[0][0] = numpy.nan
    with pytest.raises(ValueError, match="loss is nan.*Sharon"):
        ner.get_loss(examples, scores)


def test_labels_given_at_initialize():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    nlp.initialize(
        lambda: make_examples(nlp),
    )
    nlp2 = spacy.blank("en")
    ner2 = nlp2.add_pipe("lstm_ner", config={"model": small_model_config()})
    ner2.initialize(
        lambda: make_examples(nlp2), nlp=nlp2, labels=["PER", "GEO", "ORG", "TIM", "EVE"]
    )
    assert "EVE" in ner2.labels and "EVE" not in ner.labels
    assert ner2.model.get_ref("output_layer").get_dim("nO") == 1 + 4 * 5


def test_initialize_without_entities_raises():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    examples = make_examples(nlp, [("No entities here.", [])])
    with pytest.raises(ValueError, match="no entity labels"):
        nlp.initialize(lambda: examples)


def test_unknown_gold_label_raises_naming_it(trained_nlp):
    ner = trained_nlp.get_pipe("lstm_ner")
    (example,) = make_examples(trained_nlp, [("Paris is big.", [(0, 5, "CITY")])])
    scores = ner.model.predict([example.predicted])
    with pytest.raises(ValueError, match="U-CITY.*Paris is big"):
        ner.get_loss([example], scores)


def saved_component(trained_nlp, tmp):
    trained_nlp.get_pipe("lstm_ner").to_disk(tmp)
    nlp = spacy.blank("en")
    return nlp.add_pipe("lstm_ner", config={"model": small_model_config()})


@pytest.mark.parametrize("name", ["model", "cfg"])
def test_loading_a_missing_file_names_it(trained_nlp, name):
    with make_tempdir() as tmp:
        fresh = saved_component(trained_nlp, tmp)
        (tmp / name).unlink()
        with pytest.raises(ValueError, match=f"{tmp / name} is missing"):
            fresh.from_disk(tmp)


@pytest.mark.parametrize("name", ["model", "cfg"])
def test_loading_a_truncated_file_names_it(trained_nlp, name):
    with make_tempdir() as tmp:
        fresh = saved_component(trained_nlp, tmp)
        data = (tmp / name).read_bytes()
        (tmp / name).write_bytes(data[: len(data) // 2])
        with pytest.raises(ValueError, match=f"{tmp / name} is damaged"):
            fresh.from_disk(tmp)


@pytest.mark.parametrize("part", ["model", "cfg"])
def test_loading_damaged_bytes_names_the_part(trained_nlp, part):
    data = srsly.msgpack_loads(trained_nlp.get_pipe("lstm_ner").to_bytes())
    data[part] = data[part][: len(data[part]) // 2]
    fresh = spacy.blank("en").add_pipe("lstm_ner", config={"model": small_model_config()})
    with pytest.raises(ValueError, match=f"Cannot load lstm_ner: the bytes' {part} is damaged"):
        fresh.from_bytes(srsly.msgpack_dumps(data))


def test_errors_name_the_component_as_the_pipeline_calls_it(trained_nlp):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("lstm_ner", name="gmb_ner", source=trained_nlp)
    with pytest.raises(ValueError, match="gmb_ner labels must be non-empty strings"):
        ner.add_label(" ")


def test_loading_weights_of_another_label_set_is_refused(trained_nlp):
    with make_tempdir() as tmp:
        fresh = saved_component(trained_nlp, tmp)
        cfg = srsly.read_json(tmp / "cfg")
        srsly.write_json(tmp / "cfg", {**cfg, "labels": cfg["labels"] + ["EVE"]})
        with pytest.raises(ValueError, match="scores 17 tags.*make 21 BILUO tags"):
            fresh.from_disk(tmp)
    data = srsly.msgpack_loads(trained_nlp.get_pipe("lstm_ner").to_bytes())
    cfg = srsly.json_loads(data["cfg"])
    data["cfg"] = srsly.json_dumps({**cfg, "labels": cfg["labels"] + ["EVE"]})
    with pytest.raises(ValueError, match="scores 17 tags"):
        fresh.from_bytes(srsly.msgpack_dumps(data))


def test_same_seed_trains_identical_weights():
    def train_once():
        fix_random_seed(0)
        nlp = spacy.blank("en")
        nlp.add_pipe("lstm_ner", config={"model": small_model_config(dropout=0.2)})
        train_pipeline(nlp, make_examples(nlp), n_iter=10)
        return nlp.get_pipe("lstm_ner").model.to_bytes()

    assert train_once() == train_once()


def test_a_document_predicts_the_same_with_and_without_sentence_boundaries(tmp_path):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner", config={"model": small_model_config()})
    path = tmp_path / "train.spacy"
    DocBin(docs=[eg.reference for eg in make_examples(nlp)]).to_disk(path)
    read = registry.readers.get("spacy_lstm_ner.DocumentCorpus.v1")
    documents = list(read(path, n_sents=3, random_lengths=True)(nlp))
    train_pipeline(nlp, make_examples(nlp) + documents, n_iter=60)
    text = " ".join(text for text, _ in TRAIN_DATA)
    plain = nlp(text)
    split = Sentencizer()(nlp.make_doc(text))
    split = nlp.get_pipe("lstm_ner")(split)
    assert len(list(split.sents)) == len(TRAIN_DATA)
    assert ents_of(plain) == [ent for gold in GOLD for ent in gold]
    assert ents_of(split) == ents_of(plain)
    assert list(split.spans["lstm_ner"].attrs["scores"]) == list(
        plain.spans["lstm_ner"].attrs["scores"]
    )


def test_the_factory_declares_what_the_component_writes(trained_nlp):
    assigns = set(trained_nlp.get_pipe_meta("lstm_ner").assigns)
    doc = trained_nlp(TRAIN_DATA[0][0])
    assert doc.ents and doc.spans["lstm_ner"]
    assert assigns == {"doc.ents", "doc.spans", "token.ent_iob", "token.ent_type"}
