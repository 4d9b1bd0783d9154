"""What every algorithm over tag paths reads: a batch's emission scores and the
chain scores of moving from tag to tag. A path weighs the exp of the sum of its
start, emission, transition and end scores; a forbidden move scores NEVER."""

from typing import List, NamedTuple, Optional

import numpy

# Stands for log(0) where a path is forbidden; finite, so forbidden paths
# give exp(...) == 0 rather than NaN.
NEVER = -1e30


class ChainScores(NamedTuple):
    """Start, transition and end scores: a CRF's learned ones, or a scheme's
    mask of zeros and NEVER."""

    start: numpy.ndarray  # (n_tags,) score of opening a doc with each tag
    transitions: numpy.ndarray  # (n_tags, n_tags) score of tag i → tag j
    end: numpy.ndarray  # (n_tags,) score of closing a doc with each tag


class Potentials(NamedTuple):
    """A batch's scores of every tag path, as numpy arrays on the host. Made
    by `TagSet.potentials`; Viterbi (`decoding`), the lattice, the entity
    probabilities (`confidence`) and calibration read them."""

    emissions: numpy.ndarray  # (n_tokens, n_tags) float32, the docs' rows concatenated
    lengths: numpy.ndarray  # (n_docs,) int64 tokens per doc
    chain: ChainScores  # float64, NEVER where the scheme forbids the move

    @property
    def n_tags(self) -> int:
        return self.emissions.shape[1]

    @property
    def per_token(self) -> bool:
        """Whether every allowed move scores 0, so a path's score is the sum of
        its tokens' scores alone (the softmax head's chain)."""
        return all(numpy.all((values == 0) | (values <= NEVER / 2)) for values in self.chain)

    def allowed(self) -> ChainScores:
        """The chain's masks: which tags may open a doc, follow a tag, close a doc."""
        return ChainScores(*(values > NEVER / 2 for values in self.chain))

    def per_doc(self) -> List[numpy.ndarray]:
        """Views of `emissions`, one (n_tokens, n_tags) array per doc."""
        bounds = numpy.cumsum(self.lengths).tolist()
        return [
            self.emissions[stop - length : stop]
            for stop, length in zip(bounds, self.lengths.tolist())
        ]

    def longest_first(self) -> numpy.ndarray:
        """The docs' indices, longest first (stable)."""
        return numpy.argsort(-self.lengths, kind="stable")

    def padded(self, order: Optional[numpy.ndarray] = None) -> numpy.ndarray:
        """(n_docs, n_steps, n_tags), zero after each doc's end; row i holds
        the doc `order[i]` (default: doc i). One doc's is a view, not a copy."""
        if len(self.lengths) == 1:
            return self.emissions[None]
        lengths = self.lengths if order is None else self.lengths[order]
        n_steps = int(lengths.max(initial=0))
        padded = numpy.zeros((len(lengths), n_steps, self.n_tags), dtype=self.emissions.dtype)
        live = numpy.arange(n_steps)[None, :] < lengths[:, None]
        if order is None:
            padded[live] = self.emissions
        else:
            starts = (numpy.cumsum(self.lengths) - self.lengths)[order]
            padded[live] = self.emissions[(starts[:, None] + numpy.arange(n_steps))[live]]
        return padded

    def scaled(self, temperature: float) -> "Potentials":
        """Every score divided by `temperature`; forbidden moves stay at NEVER."""
        if temperature == 1.0:
            return self
        return Potentials(
            _divide(self.emissions, temperature),
            self.lengths,
            ChainScores(*(_divide(values, temperature) for values in self.chain)),
        )

    def select(self, docs: numpy.ndarray) -> "Potentials":
        """The potentials of the docs at the indices `docs` only."""
        starts = numpy.cumsum(self.lengths) - self.lengths
        rows = numpy.concatenate(
            [numpy.arange(starts[i], starts[i] + self.lengths[i]) for i in docs.tolist()]
            or [numpy.zeros((0,), dtype="int64")]
        )
        return Potentials(self.emissions[rows], self.lengths[docs], self.chain)


def _divide(values: numpy.ndarray, temperature: float) -> numpy.ndarray:
    return numpy.where(values <= NEVER / 2, values, values / temperature).astype(values.dtype)
