"""What a worker process runs: the pipeline, loaded once per process, over one shard.

Tasks name the model and carry the shard's texts (or DocBin bytes for `.spacy`
input); the pipeline itself never travels. The first task of a process loads it,
after setting PyTorch to one thread, and later tasks reuse it. One lock serializes
the tasks of a worker with several threads: they would only compete for the core.
"""

import threading
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import import_file
from spacy.vocab import Vocab

from .docbin import docbin_bytes, docbin_docs

Payload = List[Tuple[str, Union[List[str], bytes]]]

_lock = threading.Lock()
_pipelines: Dict[Tuple[str, Optional[str]], Language] = {}
_imported_code: set = set()


def annotate_shard(model: str, code: Optional[str], payload: Payload, batch_size: int) -> dict:
    """The shard's docs annotated by `model`, as DocBin bytes, with their counts."""
    with _lock:
        nlp = _load(model, code)
        docs = list(nlp.pipe(decode_payload(payload, nlp.vocab), batch_size=batch_size))
        data = docbin_bytes(docs)
    return {"data": data, "docs": len(docs), "words": sum(len(doc) for doc in docs)}


def model_meta(model: str, code: Optional[str]) -> dict:
    """The name and version of `model`, loading it in this process if needed."""
    with _lock:
        meta = _load(model, code).meta
    return {"lang": meta.get("lang"), "name": meta.get("name"), "version": meta.get("version")}


def loaded_pipelines() -> List[Language]:
    """The pipelines this process has loaded: one per model (and code file)."""
    with _lock:
        return list(_pipelines.values())


def unload_pipelines() -> None:
    """Forget the pipelines this process has loaded: the next task loads its model again."""
    with _lock:
        _pipelines.clear()


def decode_payload(payload: Payload, vocab: Vocab) -> List[Union[str, Doc]]:
    """The texts and Docs of a shard, in order, Docs in `vocab`."""
    items: List[Union[str, Doc]] = []
    for kind, data in payload:
        items.extend(data if kind == "texts" else docbin_docs(DocBin().from_bytes(data), vocab))
    return items


def _load(model: str, code: Optional[str]) -> Language:
    key = (model, code)
    if key not in _pipelines:
        _one_torch_thread()
        if code is not None and code not in _imported_code:
            import_file("python_code", Path(code))
            _imported_code.add(code)
        _pipelines[key] = spacy.load(model)
    return _pipelines[key]


def _one_torch_thread() -> None:
    """N worker processes on N cores: one intra-op thread each, or they oversubscribe."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
