"""A window of a long doc, read by the embedding layers as they read a doc."""

from spacy.attrs import intify_attr
from spacy.tokens import Span


class DocWindow:
    """A span that embedding layers read as they read a doc: `to_array` also
    takes attribute names, as `Doc.to_array` does and `Span.to_array` does not."""

    def __init__(self, span: Span):
        self.span = span
        self.vocab = span.vocab

    def __len__(self) -> int:
        return len(self.span)

    def to_array(self, attrs):
        if isinstance(attrs, (str, int)):
            return self.span.to_array([intify_attr(attrs)])[:, 0]
        return self.span.to_array([intify_attr(attr) for attr in attrs])
