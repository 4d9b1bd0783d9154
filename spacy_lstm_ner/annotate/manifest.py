"""`OUTPUT_DIR/manifest.json`: what a run reads, with which model, and which shards
are complete; written atomically, so a run that stops at any point leaves either the
old manifest or the new one.

A rerun into the same directory resumes: it must have the same model, text key and
docs per shard, and it skips a shard only when its final file exists and the
manifest records it with the same number of docs and the same hash of its input
as the rerun reads, so a shard whose input changed is redone. Shard files are
written to a temporary name and renamed when complete, so no half-written file has
a final name.
"""

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Dict, Optional, Tuple

from .shards import Shard

MANIFEST = "manifest.json"
FORMAT = "spacy-lstm-ner apply 1"
SETTINGS = ("model", "text_key", "docs_per_shard")
SHARD_NAME = re.compile(r"(\d{5,})\.spacy")


class ManifestError(ValueError):
    """OUTPUT_DIR holds another run's output."""


class Manifest:
    def __init__(self, output_dir: Path, data: dict):
        self.output_dir = output_dir
        self.data = data
        self.shards: Dict[int, dict] = {shard["index"]: shard for shard in data.get("shards", [])}

    @classmethod
    def open(cls, output_dir: Path, settings: dict, overwrite: bool = False) -> "Manifest":
        """The manifest of `output_dir` for a run with `settings`: the existing one
        when its settings are the same, else a new one. Raises ManifestError when the
        directory holds another run's output, unless `overwrite`, which deletes it."""
        output_dir.mkdir(parents=True, exist_ok=True)
        path = output_dir / MANIFEST
        old = _read(path)
        shard_files = list(_shard_files(output_dir))
        if overwrite:
            for _, path in shard_files:
                path.unlink()
        elif old is not None and old.get("format") == FORMAT:
            changed = [key for key in SETTINGS if old.get(key) != settings[key]]
            if changed:
                raise ManifestError(
                    f"{output_dir} holds a run with other {', '.join(changed)} (see {path}). "
                    "Write to another directory, or pass --overwrite to delete its shards and start over."
                )
            manifest = cls(output_dir, old)
            manifest.data.update(settings, complete=False)
            return manifest
        elif old is not None or shard_files:
            raise ManifestError(
                f"{output_dir} holds .spacy files or a manifest.json not written by this command. "
                "Write to another directory, or pass --overwrite to delete them."
            )
        manifest = cls(output_dir, {"format": FORMAT, **settings, "complete": False, "shards": []})
        manifest.save()
        return manifest

    def is_done(self, shard: Shard, input_hash: str) -> bool:
        """Whether the shard's file is complete, for the shard's present input."""
        entry = self.shards.get(shard.index)
        return (
            entry is not None
            and entry["docs"] == shard.n_docs
            and entry["input_hash"] == input_hash
            and (self.output_dir / shard.name).exists()
        )

    def write_shard(
        self, shard: Shard, input_hash: str, data: bytes, docs: int, words: int
    ) -> None:
        """The shard's DocBin bytes to a temporary file, renamed when complete."""
        write_atomic(self.output_dir / shard.name, data)
        self.shards[shard.index] = {
            "index": shard.index,
            "file": shard.name,
            "first_doc": shard.first_doc,
            "docs": docs,
            "words": words,
            "input_hash": input_hash,
            "inputs": shard.sources(),
        }

    def drop_shards_from(self, n_shards: int) -> None:
        """Shards past the end of inputs that shrank since an earlier run."""
        for index in [index for index in self.shards if index >= n_shards]:
            del self.shards[index]
        for index, path in _shard_files(self.output_dir):
            if index >= n_shards:
                path.unlink()

    def save(self, complete: bool = False, total_docs: Optional[int] = None) -> None:
        shards = [self.shards[index] for index in sorted(self.shards)]
        self.data.update(
            shards=shards,
            docs=sum(shard["docs"] for shard in shards),
            words=sum(shard["words"] for shard in shards),
            complete=complete,
        )
        if total_docs is not None:
            self.data["total_docs"] = total_docs
        write_atomic(self.output_dir / MANIFEST, json.dumps(self.data, indent=2).encode("utf8"))


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def remove_temporary_files(output_dir: Path) -> None:
    """Temporary files of a run that stopped while writing them."""
    for tmp in output_dir.glob(".*.tmp"):
        tmp.unlink()


def _shard_files(output_dir: Path) -> Iterator[Tuple[int, Path]]:
    for path in output_dir.iterdir():
        match = SHARD_NAME.fullmatch(path.name)
        if match is not None:
            yield int(match[1]), path


def _read(path: Path) -> Optional[dict]:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return {}
