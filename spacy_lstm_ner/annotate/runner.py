"""Annotate a corpus on a Dask cluster: one task per shard, written in order of completion.

The client reads the inputs in order and submits one task per shard, never more than
a few per worker thread ahead of the results, so its memory stays bounded. Each
result is written to its shard file by the client (workers need no shared
filesystem, only the model) and recorded in the manifest. Dask runs the tasks of a
worker that dies on other workers; a shard's file is written once its task has
returned, so no doc is lost or doubled.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import tqdm
from spacy.util import is_package

from . import worker
from .inputs import count_docs, describe_inputs, find_inputs, read_items
from .manifest import Manifest, remove_temporary_files
from .shards import Shard, cut_shards

MANIFEST_EVERY_SECONDS = 5.0
TASKS_PER_THREAD = 2
WAIT_FOR_WORKERS_SECONDS = 300
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
LOCAL_WORKER_CONFIG = {
    f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM}": None,
    "distributed.worker.profile.enabled": False,
}


class ModelError(ValueError):
    """The model cannot be found or loaded."""


@dataclass
class Summary:
    """This run's shards: `seconds` from the first task to the last result, after
    `startup_seconds` of starting the cluster and loading the model."""

    docs: int
    words: int
    seconds: float
    startup_seconds: float
    workers: int
    shards_written: int
    shards_skipped: int

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


def apply(
    model: str,
    data_path: Path,
    output_dir: Path,
    *,
    scheduler: Optional[str] = None,
    n_workers: Optional[int] = None,
    batch_size: int = 256,
    text_key: str = "text",
    docs_per_shard: int = 1000,
    code: Optional[Path] = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Summary:
    """Annotate the documents of `data_path` with `model` into DocBin shards in
    `output_dir`, on the Dask cluster at `scheduler` or on a local cluster of
    `n_workers` processes (default: one per core). `docs`, `words` and `seconds` of
    the summary count this run's shards; shards found complete are skipped."""
    distributed = import_distributed()
    data_path, output_dir = Path(data_path), Path(output_dir)
    if docs_per_shard < 1 or batch_size < 1:
        raise ValueError("--docs-per-shard and --batch-size must be at least 1")
    if data_path.is_dir() and output_dir.resolve().is_relative_to(data_path.resolve()):
        raise ValueError(
            f"OUTPUT_DIR {output_dir} is inside DATA_PATH {data_path}: its shards would be read as input"
        )
    paths = find_inputs(data_path)
    inputs = describe_inputs(paths)
    total_docs = count_docs(paths)
    code_arg = str(Path(code).resolve()) if code is not None else None
    if not is_package(model) and Path(model).exists():  # spacy.load's order
        model = str(Path(model).resolve())
    if scheduler is None:
        _check_model_here(model, code)
    start = time.perf_counter()
    with dask_client(scheduler, n_workers) as client:
        meta = _model_meta(client, model, code_arg)
        startup = time.perf_counter() - start
        settings = {
            "model": {"argument": model, **meta},
            "inputs": inputs,
            "text_key": text_key,
            "docs_per_shard": docs_per_shard,
        }
        manifest = Manifest.open(output_dir, settings, overwrite)
        remove_temporary_files(output_dir)
        threads = sum(client.nthreads().values())
        n_shards = -(-total_docs // docs_per_shard)
        run = _Run(distributed, client, manifest, TASKS_PER_THREAD * threads + 1)
        with tqdm.tqdm(total=n_shards, unit="shard", disable=None if progress else True) as bar:
            run.bar = bar
            finished = False
            try:
                for shard in cut_shards(read_items(paths, text_key), docs_per_shard):
                    payload = shard.payload()
                    input_hash = shard.fingerprint(payload)
                    if manifest.is_done(shard, input_hash):
                        run.skipped += 1
                        bar.update(1)
                        continue
                    run.submit(shard, input_hash, (model, code_arg, payload, batch_size))
                run.wait_all()
                finished = True
            except Exception:
                run.wait_all(raise_errors=False)  # the shards in flight are good: keep them
                raise
            finally:
                if not finished:
                    manifest.save(total_docs=total_docs)
        manifest.drop_shards_from(n_shards)
        manifest.save(complete=True, total_docs=total_docs)
        seconds = time.perf_counter() - start - startup
        workers = len(client.nthreads())
    return Summary(run.docs, run.words, seconds, startup, workers, run.written, run.skipped)


class _Run:
    """The shards in flight: submitted, at most `max_pending` at a time, and their
    results written as they come."""

    def __init__(self, distributed, client, manifest: Manifest, max_pending: int):
        self.distributed = distributed
        self.client = client
        self.manifest = manifest
        self.max_pending = max_pending
        self.pending: Dict[object, Tuple[Shard, str]] = {}
        self.bar = None
        self.docs = self.words = self.written = self.skipped = 0
        self.saved_at = time.monotonic()

    def submit(self, shard: Shard, input_hash: str, args: tuple) -> None:
        while len(self.pending) >= self.max_pending:
            self._collect(
                self.distributed.wait(list(self.pending), return_when="FIRST_COMPLETED").done
            )
        future = self.client.submit(
            worker.annotate_shard, *args, key=f"annotate-{shard.name}-{os.urandom(4).hex()}"
        )
        self.pending[future] = (shard, input_hash)

    def wait_all(self, raise_errors: bool = True) -> None:
        while self.pending:
            done = self.distributed.wait(list(self.pending), return_when="FIRST_COMPLETED").done
            self._collect(done, raise_errors)

    def _collect(self, done, raise_errors: bool = True) -> None:
        for future in done:
            shard, input_hash = self.pending.pop(future)
            try:
                result = future.result()
            except Exception as error:
                if raise_errors:
                    raise RuntimeError(f"{shard.describe()} failed: {error}") from error
                continue
            self.manifest.write_shard(
                shard, input_hash, result["data"], result["docs"], result["words"]
            )
            self.docs += result["docs"]
            self.words += result["words"]
            self.written += 1
            if self.bar is not None:
                self.bar.update(1)
        if time.monotonic() - self.saved_at > MANIFEST_EVERY_SECONDS:
            self.manifest.save()
            self.saved_at = time.monotonic()


def import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            'Annotating on Dask needs Dask distributed: pip install "spacy-lstm-ner[dask]"'
        ) from error
    return distributed


def default_n_workers() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def dask_client(scheduler: Optional[str] = None, n_workers: Optional[int] = None) -> Iterator:
    """A Dask client of the cluster at `scheduler`, once a worker has joined it; without
    `scheduler`, of a local cluster of `n_workers` processes (default: one per core) with
    one thread each and the worker settings of `_local_worker_settings`, stopped on exit."""
    distributed = import_distributed()
    if scheduler is not None:
        with distributed.Client(scheduler) as client:
            try:
                client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_SECONDS)
            except TimeoutError as error:
                raise RuntimeError(
                    f"No worker joined the scheduler at {scheduler} in {WAIT_FOR_WORKERS_SECONDS} s"
                ) from error
            yield client
        return
    with (
        _local_worker_settings(),
        distributed.LocalCluster(
            n_workers=n_workers or default_n_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@contextmanager
def _local_worker_settings() -> Iterator[None]:
    """Workers that run the pipeline at the speed it runs in one process.

    - glibc's own malloc settings: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in
      its workers' environment (and in its own process's), so that glibc hands freed
      memory back to the OS at once; PyTorch's buffers are then faulted in again on
      every batch, and lstm_ner runs at about half speed.
    - No statistical profiler (the dashboard's Profile page): it samples every
      thread's stack every 10 ms, taking the GIL from the pipeline, which releases it
      around each PyTorch operation.
    """
    import dask

    saved = os.environ.pop(MALLOC_TRIM, None)
    try:
        with dask.config.set(LOCAL_WORKER_CONFIG):
            yield
    finally:
        os.environ.pop(MALLOC_TRIM, None)
        if saved is not None:
            os.environ[MALLOC_TRIM] = saved


def _check_model_here(model: str, code: Optional[Path]) -> None:
    """Fail before starting a local cluster when the model cannot be found."""
    if code is not None and not Path(code).is_file():
        raise ModelError(f"Cannot find the code file {code}")
    if not is_package(model) and not (Path(model) / "config.cfg").is_file():
        raise ModelError(
            f"Cannot find the model {model!r}: it is neither an installed package "
            "nor a pipeline directory (one with config.cfg and meta.json)"
        )


def _model_meta(client, model: str, code: Optional[str]) -> dict:
    """The model's name and version, loading it on every worker, all at once
    (workers that join later load it with their first shard)."""
    futures = [
        client.submit(
            worker.model_meta, model, code, workers=[address], allow_other_workers=True, pure=False
        )
        for address in client.nthreads()
    ]
    try:
        return client.gather(futures)[0]
    except Exception as error:
        raise ModelError(f"Cannot load the model {model!r} on the workers: {error}") from error
