"""What a worker process runs: the pipeline, loaded once per process, over one shard.

Tasks name the model and carry the shard's texts (or DocBin bytes for `.spacy`
input); the pipeline itself never travels. The first task of a process loads it,
after setting PyTorch to one thread, and later tasks reuse it. One lock serializes
the tasks of a worker with several threads: they would only compete for the core.
"""
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy
import spacy
import srsly
from spacy.attrs import (
    DEP,
    ENT_ID,
    ENT_KB_ID,
    ENT_TYPE,
    LEMMA,
    MORPH,
    NORM,
    ORTH,
    SPACY,
    TAG,
)
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import import_file
from spacy.vocab import Vocab

# The token attributes whose values are string hashes: what DocBin.add stores the strings of.
STRING_ATTRS = {ORTH, TAG, LEMMA, NORM, MORPH, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID}

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


def docbin_bytes(docs: List[Doc]) -> bytes:
    """`DocBin(docs=docs, store_user_data=True).to_bytes()`, byte for byte, at a
    fraction of its cost, which for a fast pipeline rivals the pipeline's own:
    `DocBin.add` reads nine strings of every token in Python (here they come from
    the distinct hashes of the attribute array), and packs each doc's user data and
    span groups with a new srsly Packer that looks up the msgpack encoders among
    all registered functions and installed entry points (here looked up once)."""
    docbin = DocBin(store_user_data=True)
    string_columns = [i for i, attr in enumerate(docbin.attrs) if attr in STRING_ATTRS]
    hashes = []
    with _msgpack_encoders_looked_up_once():
        for doc in docs:
            array = doc.to_array(docbin.attrs).reshape((len(doc), len(docbin.attrs)))
            docbin.tokens.append(array)
            docbin.spaces.append(numpy.asarray(doc.to_array(SPACY).reshape((len(doc), 1)), dtype=bool))
            docbin.flags.append({"has_unknown_spaces": doc.has_unknown_spaces})
            docbin.cats.append(doc.cats)
            docbin.user_data.append(srsly.msgpack_dumps(doc.user_data))
            docbin.span_groups.append(doc.spans.to_bytes())
            hashes.append(array[:, string_columns].ravel())
            for group in doc.spans.values():
                for span in group:
                    docbin.strings.add(span.label_)
                    if span.kb_id in docbin.strings:
                        docbin.strings.add(span.kb_id_)
                    if span.id in docbin.strings:
                        docbin.strings.add(span.id_)
    if hashes:
        strings = docs[0].vocab.strings
        try:
            docbin.strings.update(strings[key] for key in numpy.unique(numpy.concatenate(hashes)).tolist())
        except KeyError:  # a hash without its string: let DocBin.add find what it can
            return DocBin(docs=docs, store_user_data=True).to_bytes()
    return docbin.to_bytes()


@contextmanager
def _msgpack_encoders_looked_up_once() -> Iterator[None]:
    registry = srsly.msgpack.msgpack_encoders
    encoders = registry.get_all()
    registry.get_all = lambda: encoders
    try:
        yield
    finally:
        del registry.get_all


def model_meta(model: str, code: Optional[str]) -> dict:
    """The name and version of `model`, loading it in this process if needed."""
    with _lock:
        meta = _load(model, code).meta
    return {"lang": meta.get("lang"), "name": meta.get("name"), "version": meta.get("version")}


def decode_payload(payload: Payload, vocab: Vocab) -> List[Union[str, Doc]]:
    """The texts and Docs of a shard, in order, Docs in `vocab`."""
    items: List[Union[str, Doc]] = []
    for kind, data in payload:
        if kind == "texts":
            items.extend(data)
        else:
            items.extend(DocBin().from_bytes(data).get_docs(vocab))
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
