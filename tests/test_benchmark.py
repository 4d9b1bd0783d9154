"""`benchmarks/`: the `--quick` run end to end, the time budget, the ablation's configs."""

import json
import subprocess
import sys

import pytest
import spacy
from spacy.schemas import ConfigSchemaTraining
from spacy.tokens import DocBin
from spacy.util import load_config, load_model_from_config, registry
from thinc.api import Config
from util import ROOT, convert_gmb_slice, make_examples, write_vectors

from benchmarks import (
    accuracy,
    active_learning,
    benchmark,
    calibration,
    learning_curve,
    suites,
    train,
)
from benchmarks.report import markdown
from benchmarks.stages import STAGES, stage_profile

N_SENTENCES = 900
SPLITS = "train:1-500,dev:501-700,test:701-900"
SYSTEMS = ("spacy_ner", "lstm_ner_bilstm", "lstm_ner_lstm")
TAG_ACCURACIES = ("ner_tag_acc", "ner_entity_tag_acc")
NUMBERS = (
    "train_seconds",
    "train_words_per_second",
    "infer_words_per_second",
    "train_peak_rss_mb",
    "infer_peak_rss_mb",
    "model_size_mb",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("benchmark")
    command = [
        sys.executable,
        "-m",
        "benchmarks.benchmark",
        "--quick",
        "--corpus",
        str(convert_gmb_slice(tmp, N_SENTENCES, SPLITS)),
        "--output",
        str(tmp / "out"),
        "--workdir",
        str(tmp / "work"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp / "out"


def test_quick_report_has_every_figure_for_every_system(quick_run):
    report = json.loads((quick_run / "benchmark.json").read_text())
    assert set(report["systems"]) == set(SYSTEMS)
    settings = report["settings"]
    assert settings["quick"] and settings["max_steps"] == 30 and settings["batch_size"] == 256
    assert settings["n_docs"] == {"train": 500, "dev": 200, "test": 200}
    for name, system in report["systems"].items():
        for key in ("ents_p", "ents_r", "ents_f"):
            assert 0.0 <= system[key] <= 1.0, (name, key)
        for key in TAG_ACCURACIES:
            assert 0.0 <= system[key] <= 1.0, (name, key)
        assert set(system["ents_per_type"]) <= {
            "art",
            "eve",
            "geo",
            "gpe",
            "nat",
            "org",
            "per",
            "tim",
        }
        for key in NUMBERS:
            assert system[key] > 0, (name, key)
        assert len(system["infer_runs_words_per_second"]) == settings["repeats"] == 5
        assert system["train_steps"] == 30 and system["stopped_by"] == "steps"
        curve = system["dev_curve"]
        assert [e["step"] for e in curve] == [0, 10, 20, 30]
        assert all(0.0 <= e["ents_f"] <= 1.0 for e in curve)
        assert [e["seconds"] for e in curve] == sorted(e["seconds"] for e in curve)
        assert [point["step"] for point in system["train_rss_curve"]] == [0, 10, 20, 30]
        assert all(point["rss_mb"] > 0 for point in system["train_rss_curve"])
        assert (
            len(system["infer_rss_curve"]) == 10 and system["infer_rss_curve"][-1]["words"] >= 20000
        )
        stages = system["infer_stages"]
        if name == "spacy_ner":
            assert stages is None
        else:
            assert list(stages) == list(STAGES)
            assert all(stage["seconds"] > 0 for stage in stages.values()), stages
            assert set(system["infer_words_per_second_by_scores"]) == {"scores on", "scores off"}


def test_quick_writes_table_and_plot(quick_run):
    table = (quick_run / "benchmark.md").read_text()
    header = "| system | ents_p | ents_r | ents_f | ner_tag_acc | ner_entity_tag_acc | train s (steps, stop) |"
    assert sum(line.startswith(header) for line in table.splitlines()) == 1
    for system in suites.SUITES["benchmark"].values():
        assert sum(line.startswith(f"| {system.description} |") for line in table.splitlines()) == 1
    assert (quick_run / "benchmark_dev_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_shows_a_score_the_scorer_did_not_report_as_na(quick_run):
    results = json.loads((quick_run / "benchmark.json").read_text())
    system = results["systems"]["lstm_ner_bilstm"]
    system["ents_p"], system["ner_tag_acc"] = 0.5, None
    rows = markdown(results).splitlines()
    row = next(line for line in rows if line.startswith(f"| {system['description']} |"))
    assert row.split(" | ")[1:5] == [
        "0.500",
        f"{system['ents_r']:.3f}",
        f"{system['ents_f']:.3f}",
        "n/a",
    ]


def test_time_budget_stops_after_a_dev_evaluation(tmp_path):
    corpus = tmp_path / "train.spacy"
    DocBin(docs=[eg.reference for eg in make_examples(spacy.blank("en"))]).to_disk(corpus)
    args = benchmark.parse_args(
        ["--max-steps", "100", "--eval-frequency", "2", "--max-seconds", "1e-9"]
    )
    config, curve, summary = (
        tmp_path / "config.cfg",
        tmp_path / "curve.jsonl",
        tmp_path / "summary.json",
    )
    suites.write_config(
        ROOT / "configs" / "lstm.cfg",
        config,
        {"train": corpus, "dev": corpus},
        args,
        curve,
        summary,
    )
    train.spacy_train(config, tmp_path / "out", threads=1)
    result = json.loads(summary.read_text())
    assert result["stopped_by"] == "time" and result["peak_rss_mb"] > 0
    assert [json.loads(line)["step"] for line in curve.read_text().splitlines()] == [0]
    assert (tmp_path / "out" / "model-best" / "meta.json").exists()


def test_write_config_gives_every_system_the_budget_the_run_and_the_vectors(tmp_path):
    args = accuracy.parse_args(["--vectors", str(tmp_path / "vectors"), "--max-steps", "3000"])
    corpus = {"train": tmp_path / "train.spacy", "dev": tmp_path / "dev.spacy"}
    configs = {}
    for suite in ("ablation", "accuracy_ablation"):
        for name, system in suites.SUITES[suite].items():
            if system.config is None:
                continue
            path = tmp_path / f"{suite}-{name}.cfg"
            logs = tmp_path / "c.jsonl", tmp_path / "s.json"
            source = suites.base_config(system, tmp_path)
            suites.write_config(source, path, corpus, args, *logs, {"system.seed": 3})
            configs[suite, name] = config = Config().from_disk(path, interpolate=False)
            assert config["paths"]["train"] == str(corpus["train"])
            assert config["training"]["max_steps"] == 3000 and config["system"]["seed"] == 3
            assert config["training"]["logger"]["logger2"]["path"] == str(logs[0])
    vectors = {key: config["paths"]["vectors"] for key, config in configs.items()}
    assert vectors["ablation", "bilstm+vectors"] == str(tmp_path / "vectors")
    assert vectors["ablation", "lstm_ner_bilstm"] is None
    earlier = configs["accuracy_ablation", "bilstm_crf"]
    assert vectors["accuracy_ablation", "bilstm_crf"] == str(tmp_path / "vectors")
    assert earlier["initialize"]["vectors"] == "${paths.vectors}"
    md = configs["accuracy_ablation", "en_core_web_md"]
    assert md["initialize"]["vectors"] == suites.md_vectors()


def test_update_speed_prints_milliseconds_per_update(tmp_path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in make_examples(nlp)] * 400
    DocBin(docs=docs).to_disk(tmp_path / "train.spacy")
    command = [
        sys.executable,
        "-m",
        "benchmarks.update_speed",
        str(ROOT / "configs" / "lstm.cfg"),
        "--train",
        str(tmp_path / "train.spacy"),
        "--batches",
        "2",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    milliseconds = float(result.stdout.split(": ")[1].split(" ms")[0])
    words = float(result.stdout.split("per update of ")[1].split(" words")[0])
    assert milliseconds > 0 and 1400 * 0.8 <= words <= 1400 * 1.2
    assert "(median of 2," in result.stdout


def test_update_speed_refuses_a_corpus_too_small(tmp_path):
    DocBin(docs=[eg.reference for eg in make_examples(spacy.blank("en"))]).to_disk(
        tmp_path / "train.spacy"
    )
    command = [
        sys.executable,
        "-m",
        "benchmarks.update_speed",
        str(ROOT / "configs" / "lstm.cfg"),
        "--train",
        str(tmp_path / "train.spacy"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "too few" in result.stderr


def test_rss_growth_is_measured_after_warm_up():
    curve = [{"step": step, "rss_mb": 500.0 + step / 10} for step in range(0, 6001, 100)]
    assert train.rss_growth(curve) == pytest.approx(1000.0 / 600.0 - 1.0)
    assert train.rss_growth(curve[:10]) is None


def test_stage_profile_times_every_stage():
    nlp = spacy.load(ROOT / "tests" / "data" / "v1_softmax")
    texts = [eg.reference.text for eg in make_examples(nlp)] * 3
    stages = stage_profile(nlp, texts, batch_size=4)
    assert list(stages) == list(STAGES)
    assert all(stage["seconds"] > 0 and stage["words_per_second"] > 0 for stage in stages.values())
    assert nlp("Angela Merkel visited Paris.").ents is not None  # the timers are gone


def test_long_docs_writes_peak_memory_per_length(tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in make_examples(nlp)]).to_disk(tmp_path / "test.spacy")
    command = [
        sys.executable,
        "-m",
        "benchmarks.long_docs",
        str(ROOT / "tests" / "data" / "v1_softmax"),
        "--tokens",
        "50",
        "500",
        "--test",
        str(tmp_path / "test.spacy"),
        "--output",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = json.loads((tmp_path / "long_docs.json").read_text())[
        str(ROOT / "tests" / "data" / "v1_softmax")
    ]
    assert [run["tokens"] for run in runs] == [50, 500]
    assert all(run["peak_above_before_mb"] >= 0 and run["seconds"] > 0 for run in runs)
    assert "| tokens |" in (tmp_path / "long_docs.md").read_text()


def test_accuracy_benchmark_scores_seen_and_unseen_mentions_per_seed(tmp_path):
    corpus = convert_gmb_slice(tmp_path, N_SENTENCES, SPLITS)
    write_vectors(tmp_path)
    report = accuracy.main(
        [
            "--corpus",
            str(corpus),
            "--vectors",
            str(tmp_path / "vectors"),
            "--seeds",
            "0,1",
            "--max-steps",
            "10",
            "--eval-frequency",
            "5",
            "--output",
            str(tmp_path / "out"),
            "--workdir",
            str(tmp_path / "work"),
            "--name",
            "tiny",
        ]
    )
    assert set(report["systems"]) == {"spacy_ner_accuracy", "lstm_ner_bilstm_crf"}
    for system in report["systems"].values():
        assert [run["seed"] for run in system["runs"]] == [0, 1]
        for run in system["runs"]:
            assert run["train_steps"] == 10
            for split in ("dev", "test"):
                scores = run[split]
                n_gold = scores["seen"]["n_gold"] + scores["unseen"]["n_gold"]
                assert n_gold > 0 and scores["unseen_share"] == pytest.approx(
                    scores["unseen"]["n_gold"] / n_gold
                )
        assert system["summary"]["test_f"]["mean"] == pytest.approx(
            sum(run["test"]["ents_f"] for run in system["runs"]) / 2
        )
    assert (
        json.loads((tmp_path / "out" / "tiny.json").read_text())["systems"].keys()
        == report["systems"].keys()
    )
    assert "| lstm_ner_bilstm_crf | 1 |" in (tmp_path / "out" / "tiny.md").read_text()


def test_accuracy_benchmark_refuses_documents_of_no_sentence(capsys):
    with pytest.raises(SystemExit):
        accuracy.parse_args(["--doc-sents", "0"])
    assert "--doc-sents must be at least 1, got 0" in capsys.readouterr().err


def test_learning_curve_subsets_are_nested_runs_of_sentences(tmp_path):
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(f"Sentence number {i} .") for i in range(95)]
    DocBin(docs=docs).to_disk(tmp_path / "train.spacy")
    subsets = learning_curve.nested_subsets(
        tmp_path / "train.spacy", [0.5, 0.1, 1.0], seed=0, run_length=10, workdir=tmp_path
    )
    texts = {
        fraction: [doc.text for doc in DocBin().from_disk(subset["path"]).get_docs(nlp.vocab)]
        for fraction, subset in subsets.items()
    }
    assert [len(texts[f]) for f in (0.1, 0.5, 1.0)] == [10, 50, 95]
    assert set(texts[0.1]) <= set(texts[0.5]) <= set(texts[1.0])
    for fraction in (0.1, 0.5):
        numbers = [int(text.split()[2]) for text in texts[fraction]]
        assert numbers == sorted(numbers) and all(
            number // 10 * 10 in numbers for number in numbers
        )
    assert subsets[0.1]["sentences"] == 10 and subsets[0.1]["tokens"] == 40
    other = learning_curve.nested_subsets(
        tmp_path / "train.spacy", [0.1], seed=1, run_length=10, workdir=tmp_path / "other"
    )
    assert [
        doc.text for doc in DocBin().from_disk(other[0.1]["path"]).get_docs(nlp.vocab)
    ] != texts[0.1]


def test_learning_curve_trains_each_share_and_writes_table_and_plot(tmp_path):
    corpus = convert_gmb_slice(tmp_path, N_SENTENCES, SPLITS)
    write_vectors(tmp_path)
    report = learning_curve.main(
        ["--corpus", str(corpus), "--vectors", str(tmp_path / "vectors")]
        + ["--systems", "lstm_ner_bilstm_crf", "--fractions", "0.2,1", "--max-steps", "10"]
        + ["--eval-frequency", "5", "--output", str(tmp_path / "out")]
        + ["--workdir", str(tmp_path / "work"), "--name", "tiny_curve"]
    )
    assert [(p["fraction"], p["system"]) for p in report["points"]] == [
        (0.2, "lstm_ner_bilstm_crf"),
        (1.0, "lstm_ner_bilstm_crf"),
    ]
    assert report["points"][0]["sentences"] < report["points"][1]["sentences"]
    assert all(p["train_steps"] == 10 and 0 <= p["test_docs_f"] <= 1 for p in report["points"])
    assert report["points"][0]["budget_seconds"] == round(1800 * 0.2**0.5)
    assert "| 20% |" in (tmp_path / "out" / "tiny_curve.md").read_text()
    assert (tmp_path / "out" / "tiny_curve.png").stat().st_size > 0


def test_active_learning_grows_the_labelled_share_round_by_round(tmp_path):
    corpus = convert_gmb_slice(tmp_path, N_SENTENCES, SPLITS)
    write_vectors(tmp_path)
    report = active_learning.main(
        ["--corpus", str(corpus), "--vectors", str(tmp_path / "vectors")]
        + ["--strategies", "mnlp,random", "--random-seeds", "0", "--shares", "0.1,0.3"]
        + ["--max-steps", "10", "--eval-frequency", "5", "--output", str(tmp_path / "out")]
        + ["--workdir", str(tmp_path / "work"), "--name", "tiny_al", "--jobs", "2"]
        + ["--retrain-steps", "5"]
    )
    assert [(run["strategy"], run["seed"]) for run in report["runs"]] == [
        ("mnlp", 0),
        ("random", 0),
    ]
    for run in report["runs"]:
        first, second, retrained = run["rounds"]
        assert 0.1 <= first["share"] < 0.15 and 0.3 <= second["share"] < 0.35
        assert retrained["round"] == "retrained" and retrained["sentences"] == second["sentences"]
        assert [r["train_steps"] for r in run["rounds"]] == [10, 10, 5]
        assert all(0 <= r["test_docs_f"] <= 1 for r in run["rounds"])
    assert report["runs"][0]["rounds"][0] == report["runs"][1]["rounds"][0]
    assert sorted(path.name for path in (tmp_path / "work").glob("*/r*")) == [
        "retrained",
        "retrained",
        "round0",
        "round1",
        "round1",
    ]
    second = report["runs"][0]["rounds"][1]
    assert second["budget_seconds"] == pytest.approx(720 * 0.3**0.5)
    assert (tmp_path / "out" / "tiny_al.png").stat().st_size > 0
    table = (tmp_path / "out" / "tiny_al.md").read_text()
    assert "| mnlp | 0 | 1 |" in table and "| retrained | " in table


def test_learning_curve_merges_runs_of_one_system_each(tmp_path):
    def report(system, fractions):
        points = [
            {"fraction": f, "system": system, "test_docs_f": f, "test_docs_unseen": f}
            for f in fractions
        ]
        return {
            "settings": {"name": system, "doc_sents": 10, "subset_seed": 0, "seed": 0},
            "points": points,
        }

    args = learning_curve.parse_args(["--name", "both", "--output", str(tmp_path)])
    both = learning_curve.merged([report("a", [0.01, 0.1]), report("b", [0.01, 0.1])], args)
    assert [(p["fraction"], p["system"]) for p in both["points"]] == [
        (0.01, "a"),
        (0.01, "b"),
        (0.1, "a"),
        (0.1, "b"),
    ]
    assert both["settings"]["name"] == "both" and both["settings"]["systems"] == "a,b"


EMBED = "components.lstm_ner.model.embed"
EARLIER = "configs/ablation/bilstm_crf_earlier.cfg"
SENTENCES = {
    "corpora.train.n_sents": 1,
    "corpora.dev.n_sents": 1,
    "training.batcher.@batchers": "spacy.batch_by_sequence.v1",
    "training.batcher.size": 64,
}
AFFIXES = {
    f"{EMBED}.attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    f"{EMBED}.widths": [64, 16, 32, 16],
    f"{EMBED}.rows": [20000, 2000, 5000, 1000],
}
# each config of configs/ablation/: the config it varies and every setting it changes
VARIANTS = {
    "lstm_features": (
        "configs/bilstm.cfg",
        {"components.lstm_ner.scheme": "IOB", "components.lstm_ner.model.bidirectional": False},
    ),
    "lstm_features_crf": (
        "configs/ablation/lstm_features.cfg",
        {"components.lstm_ner.model.@architectures": "spacy_lstm_ner.BiLSTMCRFTagger.v2"},
    ),
    "lstm_course": (
        "configs/lstm.cfg",
        {
            "components.lstm_ner.model.@architectures": "spacy_lstm_ner.BiLSTMTagger.v1",
            "components.lstm_ner.model.hidden_width": 50,
            "components.lstm_ner.model.dropout": 0.0,
            "components.lstm_ner.model.inference_dtype": "float32",
            "components.lstm_ner.model.embed.@architectures": "spacy_lstm_ner.WordEmbed.v1",
            "components.lstm_ner.model.embed.attr": "NORM",
            "components.lstm_ner.model.embed.rows": 20000,
            "components.lstm_ner.model.embed.width": 50,
            "training.dropout": 0.0,
            "training.max_steps": 3000,
            "training.optimizer.grad_clip": 1.0,
            "training.optimizer.learn_rate": 0.001,
        },
    ),
    "bilstm_crf_doc_pool": (
        "configs/bilstm_crf.cfg",
        {"components.lstm_ner.model.doc_pool_attr": "LOWER"},
    ),
    "bilstm_with_crf": (
        "configs/bilstm.cfg",
        {"components.lstm_ner.model.@architectures": "spacy_lstm_ner.BiLSTMCRFTagger.v2"},
    ),
    "bilstm_with_chars": ("configs/bilstm.cfg", {f"{EMBED}.chars": 8}),
    "bilstm_with_vectors": (
        "configs/bilstm.cfg",
        {"paths.vectors": "corpus/vectors", f"{EMBED}.include_static_vectors": True},
    ),
    "bilstm_h128": ("configs/bilstm.cfg", {"components.lstm_ner.model.hidden_width": 128}),
    "bilstm_h96": ("configs/bilstm.cfg", {"components.lstm_ner.model.hidden_width": 96}),
    "bilstm_sentences": ("configs/bilstm.cfg", SENTENCES),
    "bilstm_crf_sentences": ("configs/bilstm_crf.cfg", SENTENCES),
    "bilstm_crf_vectors_dropout": (
        "configs/ablation/bilstm_crf_sentences.cfg",
        {f"{EMBED}.vectors_dropout": None},
    ),
    "bilstm_crf_affixes": ("configs/ablation/bilstm_crf_vectors_dropout.cfg", AFFIXES),
    "bilstm_crf_earlier": (
        "configs/ablation/bilstm_crf_affixes.cfg",
        {
            f"{EMBED}.word_dropout_rate": 0.5,
            f"{EMBED}.word_dropout_alpha": 0.0,
            "components.lstm_ner.model.hidden_width": 128,
            "training.optimizer.L2": 0.0,
        },
    ),
    "bilstm_crf_earlier_h200": (EARLIER, {"components.lstm_ner.model.hidden_width": 200}),
    "bilstm_crf_earlier_no_word_dropout": (EARLIER, {f"{EMBED}.word_dropout_rate": 0.0}),
    "bilstm_crf_earlier_no_char_cnn": (EARLIER, {f"{EMBED}.char_cnn_width": 0}),
    "bilstm_crf_earlier_dropout_0.2": (EARLIER, {"training.dropout": 0.2}),
    "bilstm_crf_earlier_depth_2": (EARLIER, {"components.lstm_ner.model.depth": 2}),
    "bilstm_crf_earlier_grad_clip_1": (EARLIER, {"training.optimizer.grad_clip": 1.0}),
    "bilstm_crf_earlier_variational_dropout": (
        EARLIER,
        {"components.lstm_ner.model.variational_dropout": True},
    ),
    "bilstm_crf_earlier_word_dropout_0.7": (EARLIER, {f"{EMBED}.word_dropout_rate": 0.7}),
    "bilstm_crf_earlier_char_cnn_100": (EARLIER, {f"{EMBED}.char_cnn_width": 100}),
    "bilstm_crf_earlier_clip_1_word_dropout_0.7": (
        EARLIER,
        {"training.optimizer.grad_clip": 1.0, f"{EMBED}.word_dropout_rate": 0.7},
    ),
    "bilstm_crf_earlier_weight_decay_0.01": (EARLIER, {"training.optimizer.L2": 0.01}),
    "bilstm_crf_earlier_batch_32": (
        EARLIER,
        {"training.batcher.size": 32, "training.optimizer.learn_rate": 0.0015},
    ),
    "bilstm_crf_earlier_lr_decay": (
        EARLIER,
        {
            "training.optimizer.learn_rate.@schedules": "warmup_linear.v1",
            "training.optimizer.learn_rate.warmup_steps": 100,
            "training.optimizer.learn_rate.total_steps": 3000,
            "training.optimizer.learn_rate.initial_rate": 0.002,
        },
    ),
    **{
        f"bilstm_crf_earlier_word_dropout_alpha_{alpha}": (
            EARLIER,
            {f"{EMBED}.word_dropout_rate": 0.0, f"{EMBED}.word_dropout_alpha": float(alpha)},
        )
        for alpha in (4, 16, 32)
    },
    "bilstm_crf_earlier_en_core_web_md": (EARLIER, {"initialize.vectors": "en_core_web_md"}),
}


def settings(path: str) -> dict:
    """The settings of the config file at `path` (from the repository root), by dotted name."""

    def flatten(section: dict, prefix: str):
        for key, value in section.items():
            if isinstance(value, dict):
                yield from flatten(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value

    return dict(flatten(load_config(ROOT / path, interpolate=False), ""))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_ablation_config_changes_only_what_it_says(name):
    """Each config of configs/ablation/ names its base on its first line and differs from it
    in the settings it is about alone (settings only the base has, defaults it spells out,
    do not count)."""
    base, changes = VARIANTS[name]
    path = f"configs/ablation/{name}.cfg"
    assert (ROOT / path).read_text(encoding="utf8").startswith(f"# {base} ")
    ours, theirs = settings(path), settings(base)
    assert {key: value for key, value in ours.items() if theirs.get(key, KeyError) != value} == (
        changes
    )


def test_every_system_config_is_a_spacy_training_config():
    """Each config a suite trains exists and builds in spaCy, its [training] block too; each
    config of configs/ablation/ is one a suite trains."""
    systems = [system for suite in suites.SUITES.values() for system in suite.values()]
    configs = {system.config for system in [*systems, *calibration.SYSTEMS.values()]} - {None}
    ablation = {
        path.relative_to(ROOT).as_posix() for path in (ROOT / "configs" / "ablation").glob("*.cfg")
    }
    assert ablation <= configs
    assert ablation == {f"configs/ablation/{name}.cfg" for name in VARIANTS} | {
        "configs/ablation/spacy_beam_ner.cfg"
    }
    for path in sorted(configs):
        nlp = load_model_from_config(load_config(ROOT / path), auto_fill=True, validate=True)
        registry.resolve(nlp.config.interpolate()["training"], schema=ConfigSchemaTraining)
    beam = load_config(ROOT / "configs" / "ablation" / "spacy_beam_ner.cfg")
    assert beam["components"]["ner"]["factory"] == "beam_ner"
