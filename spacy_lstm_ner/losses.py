"""The loss of the log-softmax head, in the shape of a thinc `Loss`."""
from typing import List, Sequence, Tuple

import numpy
from thinc.backends import get_array_ops
from thinc.loss import Loss
from thinc.types import Floats2d, Ints1d


class TagNLL(Loss):
    """Negative log-likelihood of the gold tags under per-token
    log-probabilities, averaged over the tokens of the batch that have a gold
    tag. truths[i][t] is the gold tag id of token t of doc i, or -1 where it
    is missing: such tokens give no loss and no gradient."""

    def __call__(self, guesses: List[Floats2d], truths: Sequence[Ints1d]) -> Tuple[List[Floats2d], float]:
        ops = get_array_ops(guesses[0])
        lengths = [len(doc_log_probs) for doc_log_probs in guesses]
        log_probs = ops.flatten(guesses)
        d_log_probs = ops.alloc2f(*log_probs.shape)
        gold = numpy.concatenate([numpy.asarray(doc_gold) for doc_gold in truths])
        rows = numpy.flatnonzero(gold >= 0)
        if len(rows) == 0:
            return ops.unflatten(d_log_probs, lengths), 0.0
        rows_x, cols_x = ops.asarray1i(rows), ops.asarray1i(gold[rows])
        loss = -float(log_probs[rows_x, cols_x].sum()) / len(rows)
        d_log_probs[rows_x, cols_x] = -1.0 / len(rows)
        return ops.unflatten(d_log_probs, lengths), loss

    def get_grad(self, guesses: List[Floats2d], truths: Sequence[Ints1d]) -> List[Floats2d]:
        return self(guesses, truths)[0]

    def get_loss(self, guesses: List[Floats2d], truths: Sequence[Ints1d]) -> float:
        return self(guesses, truths)[1]
