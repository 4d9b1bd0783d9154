"""`benchmarks/`: the `--quick` run end to end, the time budget, the ablation's configs."""

import copy
import json
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin
from thinc.api import Config
from util import ROOT, convert_gmb_slice, make_examples, write_vectors

sys.path.insert(0, str(ROOT / "benchmarks"))
import accuracy  # noqa: E402
import benchmark  # noqa: E402
import suites  # noqa: E402
import train  # noqa: E402
from report import markdown  # noqa: E402
from stages import STAGES, stage_profile  # noqa: E402

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
        str(ROOT / "benchmarks" / "benchmark.py"),
        "--quick",
        "--corpus",
        str(convert_gmb_slice(tmp, N_SENTENCES, SPLITS)),
        "--output",
        str(tmp / "out"),
        "--workdir",
        str(tmp / "work"),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
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


def test_ablation_systems_change_only_their_overrides(tmp_path):
    args = benchmark.parse_args(["--suite", "ablation", "--vectors", str(tmp_path / "vectors")])
    corpus = {"train": tmp_path / "train.spacy", "dev": tmp_path / "dev.spacy"}
    configs, vectors = {}, {}
    for name, system in suites.SUITES["ablation"].items():
        if system.config is None:
            continue
        path = tmp_path / f"{name}.cfg"
        logs = tmp_path / "c.jsonl", tmp_path / "s.json"
        suites.write_config(
            suites.base_config(system, tmp_path), path, corpus, args, *logs, system.overrides
        )
        config = Config().from_disk(path, interpolate=False)
        configs[name] = config["components"]["lstm_ner"]["model"]
        vectors[name] = config["paths"]["vectors"]
    assert configs["bilstm+crf"]["@architectures"] == "spacy_lstm_ner.BiLSTMCRFTagger.v2"
    assert configs["bilstm+chars"]["embed"]["chars"] == 8
    assert configs["lstm_ner_bilstm"]["@architectures"] == "spacy_lstm_ner.BiLSTMTagger.v1"
    assert configs["lstm_ner_bilstm"]["embed"].get("chars", 0) == 0
    assert configs["bilstm+vectors"]["embed"]["include_static_vectors"] is True
    assert vectors["bilstm+vectors"] == vectors["lstm_ner_bilstm_crf"] == str(tmp_path / "vectors")
    assert vectors["lstm_ner_bilstm"] is None and vectors["bilstm+crf"] is None
    crf = configs["lstm_ner_bilstm_crf"]
    assert (
        crf["@architectures"] == "spacy_lstm_ner.BiLSTMCRFTagger.v2"
        and crf["embed"]["char_cnn_width"] == 50
    )
    assert crf["embed"]["include_static_vectors"] is True


def test_update_speed_prints_milliseconds_per_update(tmp_path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in make_examples(nlp)] * 400
    DocBin(docs=docs).to_disk(tmp_path / "train.spacy")
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "update_speed.py"),
        str(ROOT / "configs" / "lstm.cfg"),
        "--train",
        str(tmp_path / "train.spacy"),
        "--batches",
        "2",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
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
        str(ROOT / "benchmarks" / "update_speed.py"),
        str(ROOT / "configs" / "lstm.cfg"),
        "--train",
        str(tmp_path / "train.spacy"),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
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
        str(ROOT / "benchmarks" / "long_docs.py"),
        str(ROOT / "tests" / "data" / "v1_softmax"),
        "--tokens",
        "50",
        "500",
        "--test",
        str(tmp_path / "test.spacy"),
        "--output",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
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


def test_accuracy_ablation_systems_change_only_their_overrides(tmp_path):
    args = accuracy.parse_args(
        ["--suite", "accuracy_ablation", "--vectors", str(tmp_path / "vectors")]
    )
    assert args.dev_only
    corpus = {"train": tmp_path / "train.spacy", "dev": tmp_path / "dev.spacy"}
    configs = {}
    for name, system in suites.SUITES["accuracy_ablation"].items():
        path = tmp_path / f"{name}.cfg"
        suites.write_config(
            suites.base_config(system, tmp_path),
            path,
            corpus,
            args,
            tmp_path / "c",
            tmp_path / "s",
            system.overrides,
        )
        configs[name] = Config().from_disk(path, interpolate=False)
    full = configs["bilstm_crf"]
    embed = lambda name: configs[name]["components"]["lstm_ner"]["model"]["embed"]  # noqa: E731
    assert (
        embed("bilstm_crf")["word_dropout_rate"] > 0
        and embed("-word_dropout")["word_dropout_rate"] == 0
    )
    assert embed("bilstm_crf")["char_cnn_width"] > 0 and embed("-char_cnn")["char_cnn_width"] == 0
    assert (
        embed("word_dropout_alpha_16")["word_dropout_alpha"] == 16.0
        and embed("word_dropout_alpha_16")["word_dropout_rate"] == 0.0
    )
    shipped = Config().from_disk(ROOT / "configs" / "bilstm_crf.cfg", interpolate=False)
    combo = configs["alpha_32_hidden_200_weight_decay_0.01"]
    no_affixes = configs["alpha_32_hidden_200_weight_decay_0.01_no_affixes"]
    assert full["components"] != shipped["components"]
    assert shipped["components"]["lstm_ner"]["model"]["embed"]["vectors_dropout"] == 0.0
    assert embed("alpha_32_hidden_200_weight_decay_0.01_no_affixes")["vectors_dropout"] is None
    with_vectors_kept = copy.deepcopy(no_affixes["components"])
    with_vectors_kept["lstm_ner"]["model"]["embed"]["vectors_dropout"] = 0.0
    assert with_vectors_kept == shipped["components"]
    assert embed("bilstm_crf")["vectors_dropout"] is None
    assert combo["training"]["optimizer"] == no_affixes["training"]["optimizer"]
    assert combo["training"]["optimizer"] == shipped["training"]["optimizer"]
    features = ("attrs", "widths", "rows")
    combo_embed = embed("alpha_32_hidden_200_weight_decay_0.01")
    no_affixes_embed = embed("alpha_32_hidden_200_weight_decay_0.01_no_affixes")
    assert [combo_embed[key] for key in features] == [embed("bilstm_crf")[key] for key in features]
    assert "PREFIX" in combo_embed["attrs"] and "PREFIX" not in no_affixes_embed["attrs"]
    assert {k: v for k, v in combo_embed.items() if k not in features} == {
        k: v for k, v in no_affixes_embed.items() if k not in features
    }
    assert (
        full["training"]["dropout"] == 0.5 and configs["dropout_0.2"]["training"]["dropout"] == 0.2
    )
    assert (
        full["paths"]["vectors"] == str(tmp_path / "vectors")
        and full["initialize"]["vectors"] == "${paths.vectors}"
    )
    assert configs["en_core_web_md"]["initialize"]["vectors"] == suites.md_vectors()
    assert shipped["corpora"]["train"]["n_sents"] == 10
    for config in configs.values():
        assert config["corpora"]["train"]["n_sents"] == config["corpora"]["dev"]["n_sents"] == 1
        assert config["training"]["batcher"]["@batchers"] == "spacy.batch_by_sequence.v1"
