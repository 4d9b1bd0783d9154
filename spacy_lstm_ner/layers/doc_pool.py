"""Document context for each token: beside its LSTM state, the mean state of the
other tokens of its doc that share its key (its lowercased form, say), so that a
name's other mentions in the text inform its tag."""

from typing import Callable, List, NamedTuple, Tuple

import numpy
from spacy.attrs import intify_attr
from spacy.tokens import Doc
from thinc.types import Floats2d


class KeyGroups(NamedTuple):
    """The tokens of a doc grouped by key: each token's group, the number of
    groups, and each token's number of other tokens in its group (at least 1,
    to divide by)."""

    index: "numpy.ndarray"
    n_groups: int
    others: "numpy.ndarray"

    @classmethod
    def of(cls, ops, doc: Doc, attr: str) -> "KeyGroups":
        keys = doc.to_array(intify_attr(attr))
        _, index, counts = numpy.unique(keys, return_inverse=True, return_counts=True)
        others = numpy.maximum(counts[index] - 1, 1).astype("float32")[:, None]
        return cls(ops.asarray(index.astype("int32")), len(counts), ops.asarray(others))

    def sums(self, ops, H: Floats2d, start: int = 0) -> Floats2d:
        """Each group's sum of the rows of `H`, the states of the tokens from `start` on."""
        sums = ops.alloc2f(self.n_groups, H.shape[1], dtype=H.dtype)
        ops.scatter_add(sums, self.index[start : start + len(H)], H)
        return sums

    def mean_of_others(self, H: Floats2d, sums: Floats2d, start: int = 0) -> Floats2d:
        """For the states `H` of the tokens from `start` on, the mean of the other
        states of each one's group, given the groups' `sums` over the whole doc."""
        rows = slice(start, start + len(H))
        return (sums[self.index[rows]] - H) / self.others[rows]

    def pooled(self, ops, H: Floats2d, sums: Floats2d, start: int = 0) -> Floats2d:
        """The states `H` of the tokens from `start` on, each beside `mean_of_others`."""
        return ops.xp.hstack([H, self.mean_of_others(H, sums, start)])


def doc_pool(
    ops, states: List[Floats2d], docs: List[Doc], attr: str
) -> Tuple[List[Floats2d], Callable[[List[Floats2d]], List[Floats2d]]]:
    """Each doc's (n, d) states → (n, 2d): a token's state, then the mean state of
    the doc's other tokens with the same `attr` (zeros where there is none). Memory
    grows with the doc's tokens and distinct keys, not with their square."""
    groups = [KeyGroups.of(ops, doc, attr) for doc in docs]
    output = [group.pooled(ops, H, group.sums(ops, H)) for H, group in zip(states, groups)]

    def backprop(d_output: List[Floats2d]) -> List[Floats2d]:
        # the mean over a group's other tokens is its own adjoint: every token of
        # a group divides by the same count
        d_states = []
        for dY, group in zip(d_output, groups):
            width = dY.shape[1] // 2
            d_mean = ops.xp.ascontiguousarray(dY[:, width:])
            d_states.append(dY[:, :width] + group.mean_of_others(d_mean, group.sums(ops, d_mean)))
        return d_states

    return output, backprop
