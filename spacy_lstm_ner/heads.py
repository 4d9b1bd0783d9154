"""The two output heads of the tagger. Each turns the model's output into one
`Potentials` and owns the loss that fits it; decoding, entity probabilities
and calibration read the potentials alone."""

from typing import List, Sequence, Tuple, Union

import numpy
from thinc.api import Model
from thinc.backends import get_array_ops
from thinc.types import Floats2d, Ints1d

from .layers.crf import CRFOutput
from .losses import CRFLoss, TagNLL
from .potentials import ChainScores, Potentials
from .tagset import TagSet

Scores = Union[List[Floats2d], CRFOutput]


class SoftmaxHead:
    """Per-token log-probabilities (spacy_lstm_ner.BiLSTMTagger): the tags'
    negative log-likelihood; as potentials, the log-probabilities under a
    chain that only forbids what the scheme forbids, so the tag sequences
    weigh the product of their tokens' probabilities."""

    def loss(
        self, scores: List[Floats2d], truths: Sequence[Ints1d], tagset: TagSet
    ) -> Tuple[List[Floats2d], float]:
        return TagNLL()(scores, truths)

    def potentials(
        self, scores: List[Floats2d], tagset: TagSet, no_entity_start: Sequence[numpy.ndarray]
    ) -> Potentials:
        return tagset.potentials(scores, None, no_entity_start)

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
    CRF likelihood; as potentials, the emissions under the learned chain."""

    def loss(
        self, scores: CRFOutput, truths: Sequence[Ints1d], tagset: TagSet
    ) -> Tuple[CRFOutput, float]:
        return CRFLoss(tagset)(scores, truths)

    def potentials(
        self, scores: CRFOutput, tagset: TagSet, no_entity_start: Sequence[numpy.ndarray]
    ) -> Potentials:
        return tagset.potentials(scores.emissions, scores.chain, no_entity_start)

    def select_tags(self, scores: CRFOutput, tag_index: numpy.ndarray) -> CRFOutput:
        """The emissions and chain scores of the tags at `tag_index` only."""
        index = get_array_ops(scores.chain.transitions).asarray(tag_index)
        start, transitions, end = scores.chain
        chain = ChainScores(start[index], transitions[index[:, None], index[None, :]], end[index])
        return CRFOutput([emissions[:, index] for emissions in scores.emissions], chain)


Head = Union[SoftmaxHead, CRFHead]


def head_for(model: Model) -> Head:
    """The head that fits `model`'s output: a CRF's if it has a `crf` layer."""
    return CRFHead() if model.has_ref("crf") else SoftmaxHead()
