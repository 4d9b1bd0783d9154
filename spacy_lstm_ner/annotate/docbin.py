"""DocBin bytes written and read at a fraction of `DocBin.add`'s and `get_docs`'
cost, which for a fast pipeline rivals the pipeline's own.

`DocBin.add` reads nine strings of every token in Python and makes two arrays per
doc; here one array per doc holds both, and the strings come from the distinct hashes
of all of them. spaCy packs and unpacks each doc's user data and each span group
with a new srsly Packer or Unpacker, which looks up the msgpack extensions among all
registered functions and installed entry points: most of the cost. Here one Packer,
or Unpacker, made per call packs or unpacks them all, span groups in
`SpanGroup.to_bytes`' format. The message is DocBin's, compressed at a faster zlib
level (any level reads back); tests/test_docbin.py checks both directions against
`DocBin` for every attribute stored.
"""

import struct
import zlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy
import srsly
import srsly.msgpack
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
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.vocab import Vocab

# The token attributes whose values are string hashes: the strings DocBin.add stores.
STRING_ATTRS = {ORTH, TAG, LEMMA, NORM, MORPH, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID}
EMPTY_USER_DATA = srsly.msgpack_dumps({})
EMPTY_SPAN_GROUPS = srsly.msgpack_dumps([])
# A span as `SpanGroup.to_bytes` packs it: id, KB id, label, start, end, start
# and end character.
SPAN = struct.Struct(">QQQllll")


def docbin_bytes(docs: List[Doc], attrs: Optional[Iterable[int]] = None, level: int = 1) -> bytes:
    """What `DocBin(attrs, docs=docs, store_user_data=True).to_bytes()` gives, the
    message identical with the default `attrs`, compressed at zlib `level`: the same
    docs when read back."""
    docbin = (
        DocBin(store_user_data=True) if attrs is None else DocBin(attrs=attrs, store_user_data=True)
    )
    columns = [*docbin.attrs, SPACY]
    string_columns = [i for i, attr in enumerate(docbin.attrs) if attr in STRING_ATTRS]
    arrays, user_data, span_groups, span_keys = [], [], [], []
    packer = srsly.msgpack.Packer(use_bin_type=True)  # as srsly.msgpack_dumps packs
    for doc in docs:
        arrays.append(doc.to_array(columns))
        user_data.append(packer.pack(doc.user_data) if doc.user_data else EMPTY_USER_DATA)
        span_groups.append(_span_groups_bytes(doc, packer))
        for group in doc.spans.values():
            span_keys.extend([(span.label, span.kb_id, span.id) for span in group])
    table = numpy.vstack(arrays) if arrays else numpy.zeros((0, len(columns)), dtype="uint64")
    strings = set()
    if docs:
        vocab_strings = docs[0].vocab.strings
        hashes = _distinct_values(table[:, string_columns])
        labels, ids = _span_hashes(span_keys)
        try:
            strings.update(vocab_strings[key] for key in hashes + labels)
            strings.update(vocab_strings[key] for key in ids if key in vocab_strings)
        except KeyError:  # a hash without its string: let DocBin.add find what it can
            return DocBin(attrs=docbin.attrs, docs=docs, store_user_data=True).to_bytes()
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int32")
    message = {
        "version": docbin.version,
        "attrs": docbin.attrs,
        "tokens": table[:, :-1].tobytes("C"),
        "spaces": table[:, -1:].astype(bool).tobytes("C"),
        "lengths": lengths.tobytes("C"),
        "strings": sorted(strings),
        "cats": [doc.cats for doc in docs],
        "flags": [{"has_unknown_spaces": doc.has_unknown_spaces} for doc in docs],
        "span_groups": span_groups,
        "user_data": user_data,
    }
    return zlib.compress(packer.pack(message), level)


def _span_groups_bytes(doc: Doc, packer: srsly.msgpack.Packer) -> bytes:
    """`doc.spans.to_bytes()`, packed by `packer`."""
    if not doc.spans:
        return doc.spans.to_bytes()
    groups: Dict[bytes, List[str]] = {}
    for key, group in doc.spans.items():
        spans = [_span_bytes(span) for span in group]
        message = {"name": group.name, "attrs": group.attrs, "spans": spans}
        groups.setdefault(packer.pack(message), []).append(key)
    return packer.pack(groups)


def _span_bytes(span: Span) -> bytes:
    return SPAN.pack(
        span.id, span.kb_id, span.label, span.start, span.end, span.start_char, span.end_char
    )


def _distinct_values(table: numpy.ndarray) -> List[int]:
    """The distinct values in `table`, its all-zero columns (attributes no
    component set) left out of the search."""
    used = table.any(axis=0)
    values = numpy.unique(table[:, used]).tolist()
    return values if used.all() or 0 in values else [0, *values]


def _span_hashes(span_keys: List[Tuple[int, int, int]]) -> Tuple[List[int], List[int]]:
    """The distinct labels of the spans' (label, KB id, id) hashes, which DocBin
    stores always, and their distinct KB ids and ids, which it stores only when the
    vocab knows them."""
    if not span_keys:
        return [], []
    keys = numpy.array(span_keys, dtype="uint64")
    return numpy.unique(keys[:, 0]).tolist(), numpy.unique(keys[:, 1:]).tolist()


def docbin_docs(docbin: DocBin, vocab: Vocab) -> Iterator[Doc]:
    """`docbin.get_docs(vocab)`: the same docs."""
    unpack_lists, unpack_tuples = _unpacker(use_list=True), _unpacker(use_list=False)
    for string in docbin.strings:
        vocab[string]
    orth = docbin.attrs.index(ORTH)
    for i, tokens in enumerate(docbin.tokens):
        spaces = None if docbin.flags[i].get("has_unknown_spaces") else docbin.spaces[i]
        doc = Doc(vocab, words=tokens[:, orth], spaces=spaces).from_array(docbin.attrs, tokens)
        doc.cats = docbin.cats[i]
        groups = docbin.span_groups[i]
        if groups and groups != EMPTY_SPAN_GROUPS:
            message = unpack_lists(groups)
            if isinstance(message, dict):
                for group, keys in message.items():
                    for key in keys:
                        doc.spans[key] = _span_group(doc, unpack_lists(group))
            else:  # an older spaCy's list of groups
                doc.spans.from_bytes(groups)
        if i < len(docbin.user_data) and docbin.user_data[i] is not None:
            doc.user_data.update(unpack_tuples(docbin.user_data[i]))
        yield doc


def _span_group(doc: Doc, message: dict) -> SpanGroup:
    """The span group of `SpanGroup.to_bytes`' unpacked `message`."""
    spans = [
        Span(doc, start, end, label=label, kb_id=kb_id, span_id=span_id)
        for span_id, kb_id, label, start, end, _, _ in map(SPAN.unpack, message["spans"])
    ]
    return SpanGroup(doc, name=message["name"], attrs=message["attrs"], spans=spans)


def _unpacker(use_list: bool) -> Callable[[bytes], Any]:
    """`srsly.msgpack_loads(data, use_list)` by one Unpacker, whose msgpack
    extensions are looked up once."""
    unpacker = srsly.msgpack.Unpacker(raw=False, use_list=use_list, max_buffer_size=0)

    def unpack(data: bytes) -> Any:
        unpacker.feed(data)
        return unpacker.unpack()

    return unpack
