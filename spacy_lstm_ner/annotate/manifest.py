"""`OUTPUT_DIR/manifest.json`: what a run reads, with which model, and which shards
are complete; written atomically, so a run that stops at any point leaves either the
old manifest or the new one.

A rerun into the same directory resumes: it must have the same settings (inputs,
model, text key, docs per shard), and it skips a shard only when its final file
exists and holds the shard's number of docs. Shard files are written to a
temporary name and renamed when complete, so no half-written file has a final name.
"""
import json
import os
import uuid
from pathlib import Path
from typing import Dict, Optional

from spacy.tokens import DocBin

from .shards import Shard

MANIFEST = "manifest.json"
FORMAT = "spacy-lstm-ner apply 1"
SETTINGS = ("model", "inputs", "text_key", "docs_per_shard")
SHARD_GLOB = "[0-9][0-9][0-9][0-9][0-9]*.spacy"


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
        shard_files = sorted(output_dir.glob(SHARD_GLOB))
        if overwrite:
            for file in shard_files:
                file.unlink()
        elif old is not None and old.get("format") == FORMAT:
            changed = [key for key in SETTINGS if old.get(key) != settings[key]]
            if changed:
                raise ManifestError(
                    f"{output_dir} holds a run with other {', '.join(changed)} (see {path}). "
                    "Write to another directory, or pass --overwrite to delete its shards and start over."
                )
            manifest = cls(output_dir, old)
            manifest.data["complete"] = False
            return manifest
        elif old is not None or shard_files:
            raise ManifestError(
                f"{output_dir} holds .spacy files or a manifest.json not written by this command. "
                "Write to another directory, or pass --overwrite to delete them."
            )
        manifest = cls(output_dir, {"format": FORMAT, **settings, "complete": False, "shards": []})
        manifest.save()
        return manifest

    def is_done(self, shard: Shard) -> bool:
        """Whether the shard's file is complete: it exists and has the shard's docs."""
        path = self.output_dir / shard.name
        if not path.exists():
            return False
        entry = self.shards.get(shard.index)
        if entry is None or entry["docs"] != shard.n_docs:
            # Renamed, but stopped before the manifest said so: count its docs.
            try:
                docbin = DocBin().from_disk(path)
            except (OSError, ValueError):
                return False
            if len(docbin) != shard.n_docs:
                return False
            self.record(shard, len(docbin), sum(len(tokens) for tokens in docbin.tokens))
        return True

    def write_shard(self, shard: Shard, data: bytes, docs: int, words: int) -> None:
        """The shard's DocBin bytes to a temporary file, renamed when complete."""
        write_atomic(self.output_dir / shard.name, data)
        self.record(shard, docs, words)

    def record(self, shard: Shard, docs: int, words: int) -> None:
        self.shards[shard.index] = {
            "index": shard.index,
            "file": shard.name,
            "first_doc": shard.first_doc,
            "docs": docs,
            "words": words,
            "inputs": shard.sources(),
        }

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


def _read(path: Path) -> Optional[dict]:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return {}
