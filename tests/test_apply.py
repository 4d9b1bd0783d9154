"""`python -m spacy_lstm_ner apply`: a corpus annotated on a 2-worker Dask LocalCluster
into DocBin shards, equal to `spacy apply`, resumable, surviving a killed worker."""

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.util import import_file
from util import ROOT, TRAIN_DATA, run_python

distributed = pytest.importorskip("distributed")

from spacy_lstm_ner.annotate import (
    InputError,
    ManifestError,
    ModelError,
    apply,
    worker,
)
from spacy_lstm_ner.annotate.inputs import find_inputs, read_items

CODE = ROOT / "tests" / "apply_components.py"
TEXTS = [text for text, _ in TRAIN_DATA] + [
    "Barack Obama met Angela Merkel in Berlin on Friday.",
    "Microsoft and Apple opened offices in Miami.",
    "",
    "   ",
    "Sharon",
]
TIMEOUT = 60


@pytest.fixture(scope="module")
def models(trained_nlp, tmp_path_factory):
    """A small lstm_ner pipeline with a span-group component after it, and the same
    with a component that sleeps on every doc."""
    import_file("python_code", CODE)
    tmp = tmp_path_factory.mktemp("models")
    trained_nlp.to_disk(tmp / "base")
    marked = spacy.load(tmp / "base")
    marked.add_pipe("test_span_marker")
    marked.to_disk(tmp / "marked")
    slow = spacy.load(tmp / "base")
    slow.add_pipe("test_sleeper", config={"seconds": 0.05, "log": str(tmp / "sleeper.log")})
    slow.to_disk(tmp / "slow")
    return {
        "base": tmp / "base",
        "marked": tmp / "marked",
        "slow": tmp / "slow",
        "log": tmp / "sleeper.log",
    }


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


def write_inputs(data, texts=TEXTS):
    """The texts as a .jsonl file (with a blank line), a .spacy file storing only
    ORTH and entities, and one text file each (CRLF line ends) in a subdirectory."""
    (data / "sub").mkdir(parents=True)
    lines = [json.dumps({"text": text, "id": i}) for i, text in enumerate(texts)]
    (data / "b.jsonl").write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n", encoding="utf8")
    nlp = spacy.blank("en")
    docbin = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    for doc in nlp.pipe(texts[:4]):
        docbin.add(doc)
    docbin.to_disk(data / "a.spacy")
    for i, text in enumerate(texts[:3]):
        (data / "sub" / f"{i}.txt").write_bytes(f"{text}\r\nSecond line.".encode())
    (data / ".hidden.txt").write_text("never read", encoding="utf8")
    return len(texts) + 4 + 3


def read_shards(output_dir, nlp):
    return [
        doc
        for path in sorted(output_dir.glob("*.spacy"))
        for doc in DocBin().from_disk(path).get_docs(nlp.vocab)
    ]


def annotations(doc):
    """Text, entities, span groups and user data."""
    return (
        doc.text,
        [(ent.text, ent.start, ent.end, ent.label_) for ent in doc.ents],
        {
            key: [(span.start, span.end, span.label_) for span in group]
            for key, group in doc.spans.items()
        },
        dict(doc.user_data),
    )


def assert_same_span_attrs(docs, expected):
    """The attrs of each span group (lstm_ner's entity scores, say) are the same, up
    to the float error that batching may bring (lstm_ner promises rel=1e-5)."""
    for doc, other in zip(docs, expected):
        assert doc.spans.keys() == other.spans.keys()
        for key in doc.spans:
            attrs, other_attrs = doc.spans[key].attrs, other.spans[key].attrs
            assert attrs.keys() == other_attrs.keys()
            for name in attrs:
                assert list(attrs[name]) == pytest.approx(list(other_attrs[name]), rel=1e-5)


def test_shards_hold_what_spacy_apply_writes(models, tmp_path):
    n_docs = write_inputs(tmp_path / "data")
    model = models["marked"]
    run_python(
        "-m",
        "spacy",
        "apply",
        model,
        tmp_path / "data",
        tmp_path / "ref.spacy",
        "--code",
        CODE,
        timeout=TIMEOUT,
    )
    result = run_python(
        "-m",
        "spacy_lstm_ner",
        "apply",
        model,
        tmp_path / "data",
        tmp_path / "out",
        "--n-workers",
        "2",
        "--docs-per-shard",
        "4",
        "--batch-size",
        "3",
        "--code",
        CODE,
        timeout=TIMEOUT,
    )
    assert f"Annotated {n_docs} docs" in result.stdout and "on 2 workers" in result.stdout
    nlp = spacy.blank("en")
    expected = list(DocBin().from_disk(tmp_path / "ref.spacy").get_docs(nlp.vocab))
    docs = read_shards(tmp_path / "out", nlp)
    assert len(docs) == len(expected) == n_docs
    assert [annotations(doc) for doc in docs] == [annotations(doc) for doc in expected]
    assert_same_span_attrs(docs, expected)
    assert any(doc.ents for doc in docs) and all("marks" in doc.spans for doc in docs)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["docs"] == n_docs
    assert manifest["words"] == sum(len(doc) for doc in docs)
    assert [shard["file"] for shard in manifest["shards"]] == [f"{i:05d}.spacy" for i in range(5)]
    assert [shard["first_doc"] for shard in manifest["shards"]] == [0, 4, 8, 12, 16]
    assert manifest["model"]["name"] == "pipeline" and manifest["docs_per_shard"] == 4
    assert manifest["shards"][0]["inputs"] == [
        {"path": str(tmp_path / "data" / "a.spacy"), "first": 0, "last": 3}
    ]
    assert not list((tmp_path / "out").glob(".*"))


def test_model_loads_once_per_worker_with_one_torch_thread(models, cluster, tmp_path):
    n_docs = write_inputs(tmp_path / "data")

    def loaded():
        import torch

        return sorted(id(nlp) for nlp in worker.loaded_pipelines()), torch.get_num_threads()

    with distributed.Client(cluster) as client:
        for run in range(2):
            summary = apply(
                str(models["base"]),
                tmp_path / "data",
                tmp_path / f"out{run}",
                scheduler=cluster.scheduler_address,
                docs_per_shard=2,
                progress=False,
            )
            assert summary.workers == 2 and summary.shards_written == -(-n_docs // 2)
            after = client.run(loaded)
            if run == 0:
                first = after
    assert after == first
    assert all(len(ids) == 1 and threads == 1 for ids, threads in after.values())


def test_local_cluster_workers_keep_glibc_malloc_settings_and_run_no_profiler(monkeypatch):
    """Dask's nanny would set MALLOC_TRIM_THRESHOLD_ in the workers and in this
    process, and its profiler would sample the workers' stacks: both slow lstm_ner."""
    import dask

    from spacy_lstm_ner.annotate.runner import dask_client

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "123")
    with dask_client(n_workers=1) as client:
        assert list(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == [None]
        assert list(client.run(dask.config.get, "distributed.worker.profile.enabled").values()) == [
            False
        ]
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "123"
    assert dask.config.get("distributed.worker.profile.enabled") is True


def test_rerun_skips_complete_shards_and_redoes_the_rest(models, cluster, tmp_path):
    write_inputs(tmp_path / "data")
    out = tmp_path / "out"
    options = {"scheduler": cluster.scheduler_address, "docs_per_shard": 3, "progress": False}
    first = apply(str(models["base"]), tmp_path / "data", out, **options)
    nlp = spacy.blank("en")
    before = read_shards(out, nlp)
    (out / "00002.spacy").unlink()
    (out / ".00004.spacy.1234abcd.tmp").write_bytes(b"half")
    kept = {path.name: path.stat().st_mtime_ns for path in out.glob("*.spacy")}
    second = apply(str(models["base"]), tmp_path / "data", out, **options)
    assert (second.shards_written, second.shards_skipped) == (1, first.shards_written - 1)
    assert second.docs == 3
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept
    after = read_shards(out, nlp)
    assert [annotations(doc) for doc in after] == [annotations(doc) for doc in before]
    assert_same_span_attrs(after, before)
    assert not list(out.glob(".*"))
    assert json.loads((out / "manifest.json").read_text())["complete"]


def test_rerun_with_other_settings_is_refused_unless_overwriting(models, cluster, tmp_path):
    n_docs = write_inputs(tmp_path / "data")
    options = {"scheduler": cluster.scheduler_address, "progress": False}
    apply(str(models["base"]), tmp_path / "data", tmp_path / "out", docs_per_shard=3, **options)
    with pytest.raises(ManifestError, match="other docs_per_shard"):
        apply(str(models["base"]), tmp_path / "data", tmp_path / "out", docs_per_shard=5, **options)
    summary = apply(
        str(models["base"]),
        tmp_path / "data",
        tmp_path / "out",
        docs_per_shard=5,
        overwrite=True,
        **options,
    )
    n_shards = -(-n_docs // 5)
    assert (
        summary.shards_written == n_shards
        and len(list((tmp_path / "out").glob("*.spacy"))) == n_shards
    )


def test_bad_line_stops_naming_file_and_line_and_keeps_complete_shards(models, cluster, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lines = [json.dumps({"text": f"Sharon flew to Miami on day {i}."}) for i in range(40)]
    bad = data / "texts.jsonl"
    bad.write_text("\n".join(lines[:30] + ["{not json"] + lines[30:]), encoding="utf8")
    options = {"scheduler": cluster.scheduler_address, "docs_per_shard": 5, "progress": False}
    with pytest.raises(InputError, match=f"{bad}, line 31: not valid JSON"):
        apply(str(models["base"]), data, tmp_path / "out", **options)
    done = sorted(path.name for path in (tmp_path / "out").glob("*.spacy"))
    assert done == [f"{i:05d}.spacy" for i in range(6)]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert not manifest["complete"] and [shard["file"] for shard in manifest["shards"]] == done
    assert not list((tmp_path / "out").glob(".*"))
    bad.write_text("\n".join(lines), encoding="utf8")
    summary = apply(str(models["base"]), data, tmp_path / "out", **options)
    assert (summary.shards_skipped, summary.shards_written) == (6, 2)


def test_rerun_redoes_the_shards_whose_input_changed(models, cluster, tmp_path):
    data = tmp_path / "texts.jsonl"
    lines = [json.dumps({"text": f"Sharon flew to Miami on day {i}."}) for i in range(12)]
    data.write_text("\n".join(lines), encoding="utf8")
    options = {"scheduler": cluster.scheduler_address, "docs_per_shard": 4, "progress": False}
    apply(str(models["base"]), data, tmp_path / "out", **options)
    lines[5] = json.dumps({"text": "Angela Merkel visited Paris."})
    data.write_text("\n".join(lines[:9]), encoding="utf8")
    summary = apply(str(models["base"]), data, tmp_path / "out", **options)
    assert (summary.shards_skipped, summary.shards_written) == (1, 2)
    docs = read_shards(tmp_path / "out", spacy.blank("en"))
    assert [doc.text for doc in docs] == [json.loads(line)["text"] for line in lines[:9]]


@pytest.mark.parametrize(
    "name,content,error",
    [
        ("a.jsonl", b'{"text": "ok"}\n\n[1, 2]\n', "a.jsonl, line 3: no 'text' key"),
        ("a.jsonl", b'{"text": "ok"}\n{"body": "no text"}\n', "a.jsonl, line 2: no 'text' key"),
        ("a.jsonl", b'{"text": "ok"}\n{"text": 3}\n', "a.jsonl, line 2: 'text' is a int"),
        (
            "a.jsonl",
            b'{"text": "ok"}\n{"text": "caf\xe9"}\n',
            r"a.jsonl, line 2: byte b'\\xe9' is not valid UTF-8",
        ),
        (
            "a.txt",
            b"first line\nsecond \xff line\n",
            r"a.txt, line 2: byte b'\\xff' is not valid UTF-8",
        ),
        ("a.spacy", b"not a docbin", "a.spacy: cannot read it as a .spacy file"),
    ],
)
def test_bad_input_is_refused_naming_file_and_line(tmp_path, name, content, error):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=error.replace(".", r"\.").replace("[", r"\[")):
        list(read_items(find_inputs(tmp_path)))


def test_unreadable_file_is_named(tmp_path):
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="gone.txt: cannot read it"):
        list(read_items(find_inputs(tmp_path)))


def test_unreadable_directory_is_named(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("Sharon", encoding="utf8")

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(InputError, match=re.escape(f"{tmp_path}: cannot read it: Permission")):
        find_inputs(tmp_path)


def test_inputs_come_in_spacy_apply_order(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "c.txt").write_text("never read", encoding="utf8")
    (tmp_path / "sub" / ".d.jsonl").write_text("never read", encoding="utf8")
    names = [path.relative_to(tmp_path).as_posix() for path in find_inputs(tmp_path)]
    assert names == ["a.spacy", "b.jsonl", "sub/0.txt", "sub/1.txt", "sub/2.txt"]


def test_unknown_model_fails_naming_it(tmp_path):
    (tmp_path / "a.txt").write_text("Sharon flew to Miami.", encoding="utf8")
    with pytest.raises(ModelError, match="Cannot find the model 'no_such_pipeline'"):
        apply("no_such_pipeline", tmp_path / "a.txt", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_command_with_an_unknown_model_exits_naming_it(tmp_path):
    (tmp_path / "a.txt").write_text("Sharon flew to Miami.", encoding="utf8")
    result = run_python(
        "-m",
        "spacy_lstm_ner",
        "apply",
        "no_such_pipeline",
        tmp_path / "a.txt",
        tmp_path / "out",
        check=False,
    )
    assert result.returncode == 1 and "Cannot find the model 'no_such_pipeline'" in result.stdout


def test_killed_worker_loses_and_doubles_no_doc(models, trained_nlp, tmp_path):
    """Kill a worker process while it annotates a shard: the shard runs on the
    other worker (or the restarted one), and the output is still complete."""
    texts = [f"Sharon flew to Miami on day {i}." for i in range(48)]
    (tmp_path / "texts.jsonl").write_text(
        "\n".join(json.dumps({"text": t}) for t in texts), encoding="utf8"
    )
    log = models["log"]
    log.unlink(missing_ok=True)
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = set(client.run(os.getpid).values())
        outcome = {}

        def run():
            outcome["summary"] = apply(
                str(models["slow"]),
                tmp_path / "texts.jsonl",
                out,
                scheduler=cluster.scheduler_address,
                docs_per_shard=4,
                code=CODE,
                progress=False,
            )

        thread = threading.Thread(target=run)
        thread.start()
        victim, doc_text = wait_for_a_doc_started_after_a_shard(out, log)
        assert victim in pids
        os.kill(victim, signal.SIGKILL)
        thread.join(TIMEOUT)
        assert not thread.is_alive() and "summary" in outcome
    nlp = spacy.blank("en")
    docs = read_shards(out, nlp)
    assert [doc.text for doc in docs] == texts
    assert [annotations(doc)[1] for doc in docs] == [
        annotations(doc)[1] for doc in trained_nlp.pipe(texts)
    ]
    redone_by = {
        int(pid)
        for pid, text in (line.split("\t") for line in log.read_text().splitlines())
        if text == doc_text
    }
    assert victim in redone_by and len(redone_by) >= 2
    assert json.loads((out / "manifest.json").read_text())["docs"] == len(texts)


def wait_for_a_doc_started_after_a_shard(out, log):
    """The (pid, text) of the first doc a worker starts once a shard is written."""
    deadline = time.monotonic() + TIMEOUT
    seen = 0
    while time.monotonic() < deadline:
        if log.exists():
            lines = log.read_text().splitlines()
            if list(out.glob("*.spacy")) and len(lines) > seen and seen > 0:
                pid, text = lines[-1].split("\t")
                return int(pid), text
            seen = len(lines)
        time.sleep(0.005)
    raise AssertionError("no shard was written in time")
