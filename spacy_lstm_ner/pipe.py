"""The `lstm_ner` component: a recurrent tagger that writes `doc.ents`."""

from itertools import islice
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import minibatch
from spacy.vocab import Vocab
from thinc.api import Model, set_dropout_rate

from .architectures import check_static_vectors
from .calibration import fit_entity_temperature
from .confidence import ScoredSpans, score_entities
from .decoding import BestPaths, best_paths
from .gold import gold_tag_ids
from .heads import head_for
from .layers import count_words
from .losses import InfeasibleGold
from .resize import forget_resized_state, resize_tags, resized_layers
from .serialization import CheckedLoading
from .tagset import TagSet, validate_scheme
from .uncertainty import Uncertainty, uncertainties


class Predictions(NamedTuple):
    """What `LSTMEntityRecognizer.predict` gives `set_annotations`, per doc."""

    tag_ids: List[numpy.ndarray]  # the best valid tag sequence
    entities: List[List[Tuple[int, int, str]]]  # the entities it spells, as token offsets
    scored: Optional[
        List[ScoredSpans]
    ]  # None without score_ents; its entities (and, with a threshold, other likely spans) with probabilities


class LSTMEntityRecognizer(CheckedLoading, TrainablePipe):
    """Tag every token (BILUO or IOB), decode the best valid tag sequence and
    set the entities it spells on `doc.ents`, and each entity's probability
    under the model in `doc.spans[spans_key].attrs["scores"]`. The model is a
    spacy_lstm_ner.BiLSTMTagger (log-probabilities per token) or a
    spacy_lstm_ner.BiLSTMCRFTagger (emissions and CRF scores); the loss and
    the decoder that fit it are chosen here, once."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "lstm_ner",
        *,
        scheme: str = "BILUO",
        overwrite_ents: bool = False,
        score_ents: bool = True,
        spans_key: Optional[str] = None,
        threshold: Optional[float] = None,
        scorer: Optional[Callable] = None,
    ) -> None:
        """score_ents: write each predicted entity's probability to
        `doc.spans[spans_key]`; False skips computing them.
        spans_key: the `doc.spans` key of the scored entities; None: `name`.
        threshold: also put in that group every other span whose probability
        reaches it; None: only the entities of the best tag sequence."""
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        if spans_key is not None and (not isinstance(spans_key, str) or not spans_key):
            raise ValueError(
                f"{name}'s spans_key must be a non-empty string or null, got {spans_key!r}."
            )
        if threshold is not None and not (
            isinstance(threshold, (int, float)) and 0 < threshold <= 1
        ):
            raise ValueError(
                f"{name}'s threshold must be a probability in (0, 1] or null, got {threshold!r}."
            )
        self.score_ents = score_ents
        self.spans_key = spans_key or name
        self.threshold = threshold
        self.cfg = {
            "labels": [],
            "scheme": validate_scheme(scheme),
            "overwrite_ents": overwrite_ents,
            "temperature": 1.0,
            "unseen_labels": [],
        }
        self.head = head_for(model)

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def tagset(self) -> TagSet:
        """The tags of the component's labels in its scheme."""
        if getattr(self, "_tagset", None) != (self.labels, self.cfg["scheme"]):
            self._tagset = TagSet(self.labels, self.cfg["scheme"])
        return self._tagset

    @property
    def tags(self) -> List[str]:
        return list(self.tagset.tags)

    @property
    def is_initialized(self) -> bool:
        return self.model.get_ref("output_layer").has_param("W") is True

    def add_label(self, label: str) -> int:
        """Add an entity label. On a trained component the output layer (and
        the CRF's scores) grow: the old tags keep their weights, the new ones
        start at zero, and the label is not predicted until an update has
        seen an example of it, so until then the entities and their scores
        stay exactly the same."""
        self._check_label(label)
        if label in self.labels:
            return 0
        self._grow([label], unseen=True)
        return 1

    def _grow(self, labels: Iterable[str], *, unseen: bool) -> None:
        old = self.tagset
        self.cfg["labels"] = sorted({*self.labels, *labels})
        for label in labels:
            self.vocab.strings.add(label)
        if self.is_initialized:
            resize_tags(self.model, old, self.tagset)
            if unseen:
                self.cfg["unseen_labels"] = sorted({*self.cfg["unseen_labels"], *labels})

    def predict(self, docs: Iterable[Doc]) -> Predictions:
        """The best valid tag sequence of each doc, and the probability of
        each entity it spells. As in spaCy's `ner`, no entity starts on a
        whitespace token."""
        return self._predict(list(docs))[0]

    def predict_uncertainty(self, docs: Iterable[Doc]) -> Tuple[Predictions, List[Uncertainty]]:
        """`predict`, and how unsure the model is of each doc: the
        `spacy_lstm_ner.uncertainty` scores, at the calibrated temperature."""
        docs = list(docs)
        predictions, paths = self._predict(docs)
        if paths is None:
            return predictions, [Uncertainty(0.0, 0.0, 0) for _ in docs]
        # With a threshold, the scored spans hold more than the path's entities.
        scored = predictions.scored if self.threshold is None else None
        return predictions, uncertainties(paths, self.cfg["temperature"], scored)

    def _predict(self, docs: List[Doc]) -> Tuple[Predictions, Optional[BestPaths]]:
        if not any(len(doc) for doc in docs):
            tag_ids = [numpy.zeros((len(doc),), dtype="int64") for doc in docs]
            scored = [ScoredSpans([], numpy.zeros((0,))) for _ in docs] if self.score_ents else None
            return Predictions(tag_ids, [[] for _ in docs], scored), None
        paths = self._best_paths(docs)
        tag_ids = (
            paths.tag_ids
            if paths.tag_index is None
            else [paths.tag_index[ids] for ids in paths.tag_ids]
        )
        if not self.score_ents:
            return Predictions(tag_ids, paths.entities, None), paths
        scored = score_entities(
            paths.potentials.scaled(self.cfg["temperature"]),
            paths.tag_ids,
            paths.entities,
            paths.tagset,
            self.threshold,
        )
        return Predictions(tag_ids, paths.entities, scored), paths

    def _best_paths(self, docs: List[Doc]) -> BestPaths:
        """The best valid tag path of each of some non-empty docs."""
        scores = self.model.predict(docs)
        tagset, tag_index = self.tagset, None
        if self.cfg["unseen_labels"]:
            tagset, tag_index = tagset.without(self.cfg["unseen_labels"])
            scores = self.head.select_tags(scores, tag_index)
        spaces = [doc.to_array(IS_SPACE).astype(bool) for doc in docs]
        potentials = self.head.potentials(scores, tagset, spaces)
        tag_ids = best_paths(potentials)
        return BestPaths(potentials, tag_ids, tagset.entities(tag_ids), tagset, tag_index)

    def set_annotations(self, docs: Iterable[Doc], predictions: Predictions) -> None:
        scored = predictions.scored or [None] * len(predictions.entities)
        for doc, doc_entities, doc_scored in zip(docs, predictions.entities, scored):
            predicted = [Span(doc, start, end, label=label) for start, end, label in doc_entities]
            if doc_scored is not None:
                spans = (
                    predicted
                    if doc_scored.offsets == doc_entities
                    else [
                        Span(doc, start, end, label=label)
                        for start, end, label in doc_scored.offsets
                    ]
                )
                doc.spans[self.spans_key] = SpanGroup(
                    doc, name=self.spans_key, spans=spans, attrs={"scores": doc_scored.scores}
                )
            if self.cfg["overwrite_ents"] or not doc.ents:
                doc.set_ents(predicted, default="outside")
            else:
                kept = list(doc.ents)
                taken = {i for ent in kept for i in range(ent.start, ent.end)}
                kept += [
                    span for span in predicted if taken.isdisjoint(range(span.start, span.end))
                ]
                doc.set_ents(kept, default="outside")

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "LSTMEntityRecognizer.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        self._learn_labels(examples)
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def _learn_labels(self, examples: List[Example]) -> None:
        """As spaCy's `ner` does, add the labels of the examples' entities
        that the component lacks; a label with an example is predicted from now on."""
        gold = {ent.label_ for eg in examples for ent in eg.reference.ents}
        new = gold.difference(self.labels)
        if new and self.is_initialized:
            for label in new:
                self._check_label(label)
            self._grow(new, unseen=False)
        if gold.intersection(self.cfg["unseen_labels"]):
            self.cfg["unseen_labels"] = sorted(set(self.cfg["unseen_labels"]) - gold)

    def finish_update(self, sgd) -> None:
        forget_resized_state(sgd, resized_layers(self.model))
        self.model.finish_update(sgd)

    def get_loss(self, examples: Iterable[Example], scores) -> Tuple[float, object]:
        """Negative log-likelihood of the gold tags per token that has a gold
        tag, and its gradient for the model's output: tokens with missing
        annotation contribute nothing."""
        examples = list(examples)
        validate_examples(examples, "LSTMEntityRecognizer.get_loss")
        tagset = self.tagset
        truths = [gold_tag_ids(eg, tagset, self.name) for eg in examples]
        try:
            d_scores, loss = self.head.loss(scores, truths, tagset)
        except InfeasibleGold as error:
            raise ValueError(
                f"The gold tags of the doc {examples[error.index].reference.text[:60]!r} "
                f"make no valid {self.cfg['scheme']} sequence."
            ) from error
        if not numpy.isfinite(loss):
            raise ValueError(
                f"The {self.name} loss is {loss} on a batch starting with "
                f"{examples[0].predicted.text[:60]!r}: training diverged. Lower "
                "the learning rate or set [training.optimizer] grad_clip."
            )
        return loss, d_scores

    def calibrate(self, examples: Iterable[Example], *, batch_size: int = 256) -> Dict[str, float]:
        """Fit the temperature of the entity probabilities on held-out
        examples, whose predicted docs ran through the earlier components:
        the one that minimizes the log-loss of "this predicted entity is
        right" (same start, end and label as a reference entity). The
        entities stay the same. Stores it in cfg["temperature"]; returns it,
        the number of entities and the expected calibration error before and after."""
        examples = list(examples)
        validate_examples(examples, "LSTMEntityRecognizer.calibrate")
        batches = [
            (batch, self._best_paths([eg.predicted for eg in batch]))
            for batch in minibatch(examples, batch_size)
            if any(len(eg.predicted) for eg in batch)
        ]
        fitted = fit_entity_temperature(
            batches,
            self.cfg["temperature"],
            f"{self.name} predicts no entity in the {len(examples)} examples given",
        )
        self.cfg["temperature"] = fitted["temperature"]
        return fitted

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
        """Labels from `labels`, or else from the entities of `get_examples()`;
        the model's shapes from a few of its docs."""
        if callable(get_examples) and not any(True for _ in get_examples()):
            raise ValueError(
                f"{self.name} cannot initialize from an empty training set: the "
                "training corpus gave no examples. Check [paths] train."
            )
        validate_get_examples(get_examples, "LSTMEntityRecognizer.initialize")
        if labels is None:
            labels = {ent.label_ for eg in get_examples() for ent in eg.reference.ents}
        labels = set(labels)
        for label in labels:
            self._check_label(label)
            self.vocab.strings.add(label)
        self.cfg["labels"] = sorted(labels.union(self.labels))
        self.cfg["unseen_labels"] = []
        if not self.labels:
            raise ValueError(
                f"{self.name} found no entity labels: the training examples carry "
                "no entities and no labels were given at initialize."
            )
        check_static_vectors(self.model, self.vocab, self.name)
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        for layer in resized_layers(self.model):
            layer.set_dim("nO", len(self.tags), force=True)
        self.model.initialize(X=doc_sample)
        count_words(self.model, (eg.reference for eg in get_examples()))

    def _check_label(self, label: str) -> None:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{self.name} labels must be non-empty strings, got {label!r}.")
