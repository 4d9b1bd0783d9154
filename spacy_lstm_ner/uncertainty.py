"""How unsure the model is of a doc, read off the exact distribution over its tag
paths: the signals that choose what to annotate next.

- `mnlp`: minus the log-probability of the best path, per token (Shen et al.
  2017, "Deep Active Learning for Named Entity Recognition").
- `expected_errors`: the expected number of entity errors of the predicted
  entities against an annotation drawn from the model: the predicted entities
  that are wrong, sum of (1 - p), plus the entities that the prediction misses,
  the expected number of entities less sum of p."""

from typing import List, NamedTuple, Optional

import numpy

from .confidence import ScoredSpans, score_entities
from .decoding import BestPaths
from .lattice import lattice

STRATEGIES = ("mnlp", "entity", "random")


class Uncertainty(NamedTuple):
    mnlp: float
    expected_errors: float
    n_tokens: int

    def score(self, strategy: str) -> float:
        """The value `strategy` ranks by, highest first: `mnlp`, or
        `expected_errors` for "entity"."""
        if strategy == "mnlp":
            return self.mnlp
        if strategy == "entity":
            return self.expected_errors
        raise ValueError(f"No uncertainty score for strategy {strategy!r}: choose mnlp or entity.")


def uncertainties(
    paths: BestPaths, temperature: float = 1.0, scored: Optional[List[ScoredSpans]] = None
) -> List[Uncertainty]:
    """The uncertainty of each doc of a batch whose best paths were decoded, its
    potentials divided by `temperature` (the component's calibrated one).
    `scored`: the probabilities of the paths' entities at that temperature,
    where the caller has them already."""
    potentials = paths.potentials.scaled(temperature)
    lengths = potentials.lengths
    padded, chain = potentials.padded(), potentials.chain
    sums = lattice(padded, lengths, chain, dtype="float32")
    live = numpy.arange(padded.shape[1])[None, :] < lengths[:, None]
    log_marginals = sums.all_alpha() + sums.all_beta() - sums.log_z[:, None, None]
    opens = numpy.exp(numpy.minimum(log_marginals[:, :, paths.tagset.opens], 0.0)).sum(axis=2)
    expected_entities = (opens * live).sum(axis=1)
    if scored is None:
        scored = score_entities(potentials, paths.tag_ids, paths.entities, paths.tagset)
    result = []
    for i, (path, doc_scored) in enumerate(zip(paths.tag_ids, scored)):
        n = len(path)
        if not n:
            result.append(Uncertainty(0.0, 0.0, 0))
            continue
        score = (
            chain.start[path[0]]
            + chain.end[path[-1]]
            + padded[i, numpy.arange(n), path].astype("float64").sum()
            + chain.transitions[path[:-1], path[1:]].sum()
        )
        log_prob = min(float(score - sums.log_z[i]), 0.0)
        right = float(doc_scored.scores.sum())
        errors = (len(doc_scored.scores) - right) + max(float(expected_entities[i]) - right, 0.0)
        result.append(Uncertainty(-log_prob / n, errors, n))
    return result
