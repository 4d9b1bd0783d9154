"""DocBin bytes written and read at a fraction of `DocBin.add`'s and `get_docs`'
cost, which for a fast pipeline rivals the pipeline's own.

`DocBin.add` reads nine strings of every token in Python; here they come from the
distinct hashes of the attribute array. Both directions pack or unpack each doc's
user data and span groups with a new srsly Packer or Unpacker, which looks up the
msgpack extensions among all registered functions and installed entry points; here
they are looked up once per call.
"""
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional

import numpy
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
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

# The token attributes whose values are string hashes: the strings DocBin.add stores.
STRING_ATTRS = {ORTH, TAG, LEMMA, NORM, MORPH, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID}


def docbin_bytes(docs: List[Doc], attrs: Optional[Iterable[int]] = None) -> bytes:
    """What `DocBin(attrs, docs=docs, store_user_data=True).to_bytes()` gives (byte for
    byte with the default `attrs`): the same docs when read back."""
    docbin = DocBin(store_user_data=True) if attrs is None else DocBin(attrs=attrs, store_user_data=True)
    string_columns = [i for i, attr in enumerate(docbin.attrs) if attr in STRING_ATTRS]
    hashes = []
    with _msgpack_registries_looked_up_once():
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
                    for key in (span.kb_id, span.id):
                        if key and key in doc.vocab.strings:
                            docbin.strings.add(doc.vocab.strings[key])
    if hashes:
        strings = docs[0].vocab.strings
        try:
            docbin.strings.update(strings[key] for key in numpy.unique(numpy.concatenate(hashes)).tolist())
        except KeyError:  # a hash without its string: let DocBin.add find what it can
            return DocBin(attrs=docbin.attrs, docs=docs, store_user_data=True).to_bytes()
    return docbin.to_bytes()


def docbin_docs(docbin: DocBin, vocab: Vocab) -> Iterator[Doc]:
    """`docbin.get_docs(vocab)`."""
    with _msgpack_registries_looked_up_once():
        yield from docbin.get_docs(vocab)


@contextmanager
def _msgpack_registries_looked_up_once() -> Iterator[None]:
    registries = (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders)
    patched = [registry for registry in registries if "get_all" not in vars(registry)]  # not nested
    for registry in patched:
        found = registry.get_all()
        registry.get_all = lambda found=found: found
    try:
        yield
    finally:
        for registry in patched:
            del registry.get_all
