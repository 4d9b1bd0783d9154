"""The two output heads of the tagger. Each owns what depends on the shape of
the model's output: its loss, its decoder, the path weights the entity
probabilities are read from, and the output restricted to some of the tags."""

from typing import List, Sequence, Tuple, Union

import numpy
from thinc.api import Model
from thinc.backends import get_array_ops
from thinc.types import Floats2d, Ints1d

from .confidence import Weights, crf_weights, softmax_weights
from .decoding import crf_decode, softmax_decode
from .lattice import ChainScores
from .layers.crf import CRFOutput
from .losses import CRFLoss, TagNLL

Scores = Union[List[Floats2d], CRFOutput]


class SoftmaxHead:
    """Per-token log-probabilities (spacy_lstm_ner.BiLSTMTagger): the tags'
    negative log-likelihood, constrained Viterbi, and the tag sequences
    weighted by the product of their tokens' probabilities."""

    def __init__(self, scheme: str):
        self.scheme = scheme
        self._loss = TagNLL()

    def loss(
        self, scores: List[Floats2d], truths: Sequence[Ints1d]
    ) -> Tuple[List[Floats2d], float]:
        return self._loss(scores, truths)

    def decode(
        self, scores: List[Floats2d], no_entity_start: Sequence[numpy.ndarray]
    ) -> List[numpy.ndarray]:
        return softmax_decode(scores, self.scheme, no_entity_start)

    def weights(
        self, scores: List[Floats2d], no_entity_start: Sequence[numpy.ndarray], temperature: float
    ) -> Weights:
        return softmax_weights(scores, self.scheme, no_entity_start, temperature)

    def select_tags(self, scores: List[Floats2d], tag_index: numpy.ndarray) -> List[Floats2d]:
        """The scores of the tags at `tag_index` only. Each token's scores then
        sum to less than one, by a factor that cancels out of the best path
        and of the entity probabilities."""
        if not scores:
            return scores
        index = get_array_ops(scores[0]).asarray(tag_index)
        return [log_probs[:, index] for log_probs in scores]


class CRFHead:
    """Emissions and a CRF's chain scores (spacy_lstm_ner.BiLSTMCRFTagger): the
    CRF likelihood, Viterbi under the chain scores, and the CRF's own weights."""

    def __init__(self, scheme: str):
        self.scheme = scheme
        self._loss = CRFLoss(scheme)

    def loss(self, scores: CRFOutput, truths: Sequence[Ints1d]) -> Tuple[CRFOutput, float]:
        return self._loss(scores, truths)

    def decode(
        self, scores: CRFOutput, no_entity_start: Sequence[numpy.ndarray]
    ) -> List[numpy.ndarray]:
        return crf_decode(scores, self.scheme, no_entity_start)

    def weights(
        self, scores: CRFOutput, no_entity_start: Sequence[numpy.ndarray], temperature: float
    ) -> Weights:
        return crf_weights(scores, self.scheme, no_entity_start, temperature)

    def select_tags(self, scores: CRFOutput, tag_index: numpy.ndarray) -> CRFOutput:
        """The emissions and chain scores of the tags at `tag_index` only."""
        index = get_array_ops(scores.chain.transitions).asarray(tag_index)
        start, transitions, end = scores.chain
        chain = ChainScores(start[index], transitions[index[:, None], index[None, :]], end[index])
        return CRFOutput([emissions[:, index] for emissions in scores.emissions], chain)


Head = Union[SoftmaxHead, CRFHead]


def head_for(model: Model, scheme: str) -> Head:
    """The head that fits `model`'s output: a CRF's if it has a `crf` layer."""
    return CRFHead(scheme) if model.has_ref("crf") else SoftmaxHead(scheme)
