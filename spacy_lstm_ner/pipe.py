"""The `lstm_ner` component: a recurrent tagger that writes `doc.ents`."""
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import srsly
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import ensure_path, registry
from spacy.vocab import Vocab
from thinc.api import Config, Model, set_dropout_rate
from thinc.types import Floats2d

from .crf import NEVER, ChainScores, clamp_to_gold, forward_backward, pad_emissions, restrict
from .decoding import crf_viterbi_decode, viterbi_decode
from .gold import aligned_biluo
from .tags import (
    begin_mask,
    entity_offsets,
    from_biluo,
    tag_names,
    transition_mask,
    validate_scheme,
)

default_model_config = """
[model]
@architectures = "spacy_lstm_ner.BiLSTMTagger.v1"
hidden_width = 128
depth = 1
bidirectional = true
dropout = 0.2

[model.embed]
@architectures = "spacy_lstm_ner.FeatureEmbed.v1"
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
widths = [64, 16, 32, 16]
rows = [5000, 1000, 2500, 2500]
"""
DEFAULT_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "lstm_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BILUO",
        "overwrite_ents": False,
        "scorer": {"@scorers": "spacy_lstm_ner.masked_accuracy_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
        "token_acc": 0.0,
        "entity_token_acc": 0.0,
    },
)
def make_lstm_ner(
    nlp: Language,
    name: str,
    model: Model[List[Doc], List[Floats2d]],
    scheme: str,
    overwrite_ents: bool,
    scorer: Optional[Callable],
) -> "LSTMEntityRecognizer":
    return LSTMEntityRecognizer(
        nlp.vocab,
        model,
        name,
        scheme=scheme,
        overwrite_ents=overwrite_ents,
        scorer=scorer,
    )


class LSTMEntityRecognizer(TrainablePipe):
    """Tag every token (BILUO or IOB), decode the best valid tag sequence and
    set the entities it spells on `doc.ents`."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], List[Floats2d]],
        name: str = "lstm_ner",
        *,
        scheme: str = "BILUO",
        overwrite_ents: bool = False,
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg = {
            "labels": [],
            "scheme": validate_scheme(scheme),
            "overwrite_ents": overwrite_ents,
        }

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def tags(self) -> List[str]:
        return tag_names(self.labels, self.cfg["scheme"])

    def add_label(self, label: str) -> int:
        _check_label(label)
        if label in self.labels:
            return 0
        if self.model.get_ref("output_layer").has_param("W") is True:
            raise ValueError(
                f"Cannot add the label {label!r} to {self.name} after it was "
                "initialized: list every label at initialize."
            )
        self.cfg["labels"] = sorted([*self.labels, label])
        self.vocab.strings.add(label)
        return 1

    @property
    def has_crf(self) -> bool:
        """Whether the model ends in a CRF (spacy_lstm_ner.BiLSTMCRFTagger.v1)."""
        return self.model.has_ref("crf")

    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Tag ids of the best valid tag sequence for each doc. As in spaCy's
        `ner`, no entity starts on a whitespace token."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), dtype="int64") for doc in docs]
        tags = tuple(self.tags)
        scores = [self.model.ops.to_numpy(s) for s in self.model.predict(docs)]
        opens_entity = begin_mask(tags)
        for doc, doc_scores in zip(docs, scores):
            spaces = doc.to_array(IS_SPACE).astype(bool)
            if spaces.any():
                doc_scores[numpy.ix_(spaces, opens_entity)] = -numpy.inf
        if self.has_crf:
            return crf_viterbi_decode(scores, self._chain_scores())
        return viterbi_decode(scores, *transition_mask(tags, self.cfg["scheme"]))

    def _chain_scores(self) -> ChainScores:
        """The CRF's learned scores, with the moves the tag scheme forbids ruled out."""
        crf = self.model.get_ref("crf")
        learned = [self.model.ops.to_numpy(crf.get_param(name)) for name in ("start", "transitions", "end")]
        return restrict(*learned, *transition_mask(tuple(self.tags), self.cfg["scheme"]))

    def set_annotations(self, docs: Iterable[Doc], tag_ids: Sequence[numpy.ndarray]) -> None:
        tags = tuple(self.tags)
        for doc, doc_tag_ids in zip(docs, tag_ids):
            predicted = [
                Span(doc, start, end, label=label)
                for start, end, label in entity_offsets(doc_tag_ids, tags)
            ]
            if self.cfg["overwrite_ents"]:
                doc.set_ents(predicted, default="outside")
            else:
                kept = list(doc.ents)
                taken = {i for ent in kept for i in range(ent.start, ent.end)}
                kept += [
                    span
                    for span in predicted
                    if taken.isdisjoint(range(span.start, span.end))
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
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        if self.has_crf:
            loss, d_scores, d_chain = self._crf_loss(examples, scores)
            crf = self.model.get_ref("crf")
            for name, gradient in d_chain.items():
                crf.inc_grad(name, self.model.ops.asarray(gradient, dtype="float32"))
        else:
            loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(
        self, examples: Iterable[Example], scores: List[Floats2d]
    ) -> Tuple[float, List[Floats2d]]:
        """Negative log-likelihood of the gold tags, averaged over the tokens
        that have a gold tag: tokens with missing annotation contribute nothing."""
        examples = list(examples)
        validate_examples(examples, "LSTMEntityRecognizer.get_loss")
        if self.has_crf:
            loss, d_scores, _ = self._crf_loss(examples, scores)
            return loss, d_scores
        ops = self.model.ops
        tag_ids = {tag: i for i, tag in enumerate(self.tags)}
        gold = numpy.concatenate([self._gold_tag_ids(eg, tag_ids) for eg in examples])
        log_probs = ops.flatten(scores)
        d_log_probs = ops.alloc2f(*log_probs.shape)
        rows = numpy.flatnonzero(gold >= 0)
        if len(rows) == 0:
            return 0.0, ops.unflatten(d_log_probs, [len(s) for s in scores])
        rows_x = ops.asarray1i(rows)
        cols_x = ops.asarray1i(gold[rows])
        loss = -float(log_probs[rows_x, cols_x].sum()) / len(rows)
        self._check_finite(loss, examples)
        d_log_probs[rows_x, cols_x] = -1.0 / len(rows)
        return loss, ops.unflatten(d_log_probs, [len(s) for s in scores])

    def _crf_loss(
        self, examples: List[Example], scores: List[Floats2d]
    ) -> Tuple[float, List[Floats2d], Dict[str, numpy.ndarray]]:
        """CRF negative log-likelihood of the gold tags, with the tokens that
        have no gold tag summed out, per annotated token; its gradients for
        the emission scores and for the CRF's start, transition and end scores."""
        ops = self.model.ops
        tag_ids = {tag: i for i, tag in enumerate(self.tags)}
        gold = [self._gold_tag_ids(eg, tag_ids) for eg in examples]
        d_scores = [numpy.zeros(s.shape, dtype="float32") for s in scores]
        chain = self._chain_scores()
        n_annotated = int(sum((doc_gold >= 0).sum() for doc_gold in gold))
        if n_annotated == 0:
            no_change = {name: numpy.zeros_like(values) for name, values in chain._asdict().items()}
            return 0.0, [ops.asarray2f(d) for d in d_scores], no_change
        tagged = [i for i, doc_gold in enumerate(gold) if (doc_gold >= 0).any()]
        emissions = pad_emissions([ops.to_numpy(scores[i]) for i in tagged])
        lengths = numpy.array([len(scores[i]) for i in tagged])
        free = forward_backward(emissions, lengths, chain)
        clamped = forward_backward(clamp_to_gold(emissions, [gold[i] for i in tagged]), lengths, chain)
        infeasible = numpy.flatnonzero(clamped.log_z < NEVER / 2)
        if len(infeasible):
            doc = examples[tagged[infeasible[0]]].reference
            raise ValueError(
                f"The gold tags of the doc {doc.text[:60]!r} make no valid "
                f"{self.cfg['scheme']} sequence."
            )
        loss = float((free.log_z - clamped.log_z).sum()) / n_annotated
        self._check_finite(loss, examples)
        for row, i in enumerate(tagged):
            d_scores[i][:] = (free.tags[row, : lengths[row]] - clamped.tags[row, : lengths[row]]) / n_annotated
        d_chain = {
            name: (getattr(free, name) - getattr(clamped, name)) / n_annotated
            for name in ChainScores._fields
        }
        return loss, [ops.asarray2f(d) for d in d_scores], d_chain

    def _check_finite(self, loss: float, examples: List[Example]) -> None:
        if not numpy.isfinite(loss):
            raise ValueError(
                f"The {self.name} loss is {loss} on a batch starting with "
                f"{examples[0].predicted.text[:60]!r}: training diverged. Lower "
                "the learning rate or set [training.optimizer] grad_clip."
            )

    def _gold_tag_ids(self, example: Example, tag_ids: Dict[str, int]) -> numpy.ndarray:
        """Gold tag id per predicted token, -1 where the gold tag is missing."""
        gold_tags = from_biluo(aligned_biluo(example), self.cfg["scheme"])
        ids = numpy.full((len(gold_tags),), -1, dtype="int64")
        for i, tag in enumerate(gold_tags):
            if tag is None or tag == "-":
                continue
            if tag not in tag_ids:
                raise ValueError(
                    f"Gold tag {tag!r} in the doc {example.reference.text[:60]!r} "
                    f"is not one of {self.name}'s labels {list(self.labels)}: add "
                    "the label at initialize."
                )
            ids[i] = tag_ids[tag]
        return ids

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
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
            _check_label(label)
            self.vocab.strings.add(label)
        self.cfg["labels"] = sorted(labels.union(self.labels))
        if not self.labels:
            raise ValueError(
                f"{self.name} found no entity labels: the training examples carry "
                "no entities and no labels were given at initialize."
            )
        self._check_dev_labels_are_known(nlp)
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.get_ref("output_layer").set_dim("nO", len(self.tags), force=True)
        if self.has_crf:
            self.model.get_ref("crf").set_dim("nO", len(self.tags), force=True)
        self.model.initialize(X=doc_sample)

    def _check_dev_labels_are_known(self, nlp: Optional[Language]) -> None:
        """Refuse to train when the dev corpus that `spacy train` scores on has
        entity labels the component will never predict."""
        dev_corpus = _dev_corpus(nlp)
        if dev_corpus is None:
            return
        unknown: Dict[str, str] = {}
        for eg in dev_corpus(nlp):
            for ent in eg.reference.ents:
                if ent.label_ not in self.labels:
                    unknown.setdefault(ent.label_, eg.reference.text[:60])
        if unknown:
            examples = "; ".join(f"{label!r} in {text!r}" for label, text in unknown.items())
            raise ValueError(
                f"The dev corpus has entity labels that {self.name}'s training "
                f"data lacks, so it could never predict them: {examples}. Add "
                f"training examples, or list every label in "
                f"[initialize.components.{self.name}] labels."
            )

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "LSTMEntityRecognizer":
        super().from_bytes(bytes_data, exclude=exclude)
        self._check_model_fits_labels("the bytes given")
        return self

    def from_disk(self, path, *, exclude=tuple()) -> "LSTMEntityRecognizer":
        """Load from a directory; a missing, damaged or mismatched file raises
        an error that names it."""
        path = ensure_path(path)
        readers = {
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": lambda p: self.model.from_bytes(p.read_bytes()),
        }
        for name, read in readers.items():
            file = path / name
            if name in exclude or (name == "vocab" and not file.exists()):
                continue
            if not file.exists():
                raise ValueError(f"Cannot load {self.name}: {file} is missing.")
            try:
                read(file)
            except (ValueError, TypeError, KeyError, RuntimeError, EOFError) as error:
                raise ValueError(
                    f"Cannot load {self.name}: {file} is damaged or does not fit "
                    f"this component's config ({type(error).__name__}: {error})."
                ) from error
        self._check_model_fits_labels(str(path / "model"))
        return self

    def _check_model_fits_labels(self, source: str) -> None:
        n_out = self.model.get_ref("output_layer").maybe_get_dim("nO")
        if n_out is not None and n_out != len(self.tags):
            raise ValueError(
                f"{self.name}'s model in {source} scores {n_out} tags, but its labels "
                f"{list(self.labels)} make {len(self.tags)} {self.cfg['scheme']} tags: "
                "the weights and the labels come from different pipelines."
            )


def _dev_corpus(nlp: Optional[Language]) -> Optional[Callable]:
    """The dev corpus reader named by nlp.config's [training] dev_corpus, or
    None where the config gives it no path (e.g. outside `spacy train`)."""
    if nlp is None:
        return None
    config = nlp.config.interpolate()
    section = config
    for key in config.get("training", {}).get("dev_corpus", "").split("."):
        section = section.get(key) if isinstance(section, dict) else None
    if not isinstance(section, dict) or section.get("path") is None:
        return None
    return registry.resolve({"dev": section})["dev"]


def _check_label(label: str) -> None:
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"lstm_ner labels must be non-empty strings, got {label!r}.")
