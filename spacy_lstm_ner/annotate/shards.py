"""The input documents cut into shards of `docs_per_shard`, in order.

Shard `i` holds docs `i * K` to `i * K + K - 1` and becomes the file `{i:05d}.spacy`.
Its payload is what a task carries: runs of texts, and of Docs from one `.spacy` file
as DocBin bytes with that file's attributes.
"""

import hashlib
from collections.abc import Iterable, Iterator
from itertools import groupby, islice
from typing import List, NamedTuple

from spacy.tokens import Doc

from .docbin import docbin_bytes
from .inputs import Item
from .worker import Payload


def shard_name(index: int) -> str:
    return f"{index:05d}.spacy"


class Shard(NamedTuple):
    index: int
    first_doc: int
    items: List[Item]

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def n_docs(self) -> int:
        return len(self.items)

    def payload(self) -> Payload:
        payload: Payload = []
        for _, run in groupby(
            self.items, key=lambda item: (item.path, isinstance(item.value, Doc))
        ):
            run = list(run)
            if isinstance(run[0].value, Doc):
                payload.append(("docs", _docbin_bytes(run)))
            else:
                payload.append(("texts", [item.value for item in run]))
        return payload

    def fingerprint(self, payload: Payload) -> str:
        """A hash of the shard's input: a rerun redoes the shard when it changes."""
        digest = hashlib.blake2b(digest_size=16)
        for kind, data in payload:
            for part in (
                [data]
                if kind == "docs"
                else (text.encode("utf8", "surrogatepass") for text in data)
            ):
                digest.update(len(part).to_bytes(8, "little"))
                digest.update(part)
        return digest.hexdigest()

    def sources(self) -> List[dict]:
        """The input files of the shard, each with the position (line of a `.jsonl`
        file, index in a `.spacy` file) of its first and last doc in the shard."""
        sources = []
        for path, run in groupby(self.items, key=lambda item: item.path):
            run = list(run)
            sources.append({"path": str(path), "first": run[0].position, "last": run[-1].position})
        return sources

    def describe(self) -> str:
        source = self.sources()[0]
        where = (
            source["path"] if source["first"] is None else f"{source['path']} ({source['first']})"
        )
        return f"shard {self.name} (docs {self.first_doc:,}-{self.first_doc + self.n_docs - 1:,}, from {where})"


def cut_shards(items: Iterable[Item], docs_per_shard: int) -> Iterator[Shard]:
    items = iter(items)
    index = 0
    while True:
        batch = list(islice(items, docs_per_shard))
        if not batch:
            return
        yield Shard(index, index * docs_per_shard, batch)
        index += 1


def _docbin_bytes(items: List[Item]) -> bytes:
    """Docs of one `.spacy` file with the attributes that file stores, no others:
    an attribute it lacks (NORM, say) must stay unset, for the pipeline's vocab
    to fill in as it does for `spacy apply`."""
    return docbin_bytes([item.value for item in items], items[0].attrs)
