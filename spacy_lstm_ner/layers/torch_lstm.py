"""The PyTorch side of the tagger's LSTM. Imported only when an lstm_ner model
is built, so that installing the plugin changes nothing in processes that
never use it."""

import contextlib
import os
from functools import lru_cache
from typing import Callable, Iterator, Optional, Tuple

import torch
from thinc.api import PyTorchGradScaler, PyTorchShim, get_array_module, torch2xp, xp2torch

_process_id = os.getpid()


def one_thread_in_forked_child() -> None:
    """torch's OpenMP thread pool does not survive fork(): a forked worker, such
    as those of `nlp.pipe(n_process=N)`, would hang in its first LSTM call. In a
    child forked from the process that built the model, use one thread, which
    also keeps N workers from fighting over the cores."""
    global _process_id
    if os.getpid() != _process_id:
        torch.set_num_threads(1)
        _process_id = os.getpid()


class InPlaceShim(PyTorchShim):
    """thinc's `PyTorchShim`, but the optimizer updates each parameter in
    place, and `use_params` reads the averages the optimizer keeps.
    thinc's `finish_update` rebinds `param.data` to a new tensor made from the
    optimizer's output, a numpy view whose base is the previous step's tensor:
    each step leaves a chain of live objects per parameter one link longer, and
    the RSS of `spacy train` grew by about 0.3 MB a step with it (2.9 GB after
    5,000 steps of configs/bilstm.cfg). Updated in place, it stays flat.

    It keeps its own references to the module and to the gradient scaler it
    hands to thinc's shim, which offers no public attribute for either. thinc's
    `from_bytes` loads the weights into that same module."""

    def __init__(self, module: torch.nn.Module):
        grad_scaler = PyTorchGradScaler(enabled=False)
        super().__init__(module, grad_scaler=grad_scaler)
        self.module = module
        self.grad_scaler = grad_scaler

    def finish_update(self, optimizer) -> None:
        skip = self.grad_scaler.found_inf  # an overflowed gradient skips the step
        for name, param in self.module.named_parameters():
            if param.grad is None:
                continue
            if not skip:
                weights = torch2xp(param.data)
                updated, _ = optimizer((self.id, name), weights, torch2xp(param.grad))
                if not get_array_module(updated).shares_memory(updated, weights):
                    param.data.copy_(xp2torch(updated, device=param.device))
            param.grad.zero_()
        self.grad_scaler.update()

    @contextlib.contextmanager
    def use_params(self, params):
        """The module with the weights `params` holds for it, as thinc's
        `Model.use_params` gives every other layer (the trainer's averages with
        `use_averages = true`). The optimizer keys them by (shim id, parameter
        name), which thinc's `PyTorchShim.use_params` does not look up."""
        given = {
            name: params[self.id, name]
            for name, _ in self.module.named_parameters()
            if (self.id, name) in params
        }
        if not given:
            yield
            return
        backup = {
            name: param.detach().clone()
            for name, param in self.module.named_parameters()
            if name in given
        }
        self.module.load_state_dict(
            {name: xp2torch(values, device=self.device) for name, values in given.items()},
            strict=False,
        )
        try:
            yield
        finally:
            self.module.load_state_dict(backup, strict=False)


class PaddedLSTM(torch.nn.Module):
    """A (bi)LSTM over a batch of right-padded sequences in which the padding
    never reaches a real token: the left-to-right pass meets padding only after
    a sequence's last token, and the right-to-left pass runs left to right over
    each sequence reversed within its own length. The input width may be left
    open: it is fixed by `build`, or by the weights being loaded. Dropout, at
    the rate given to `forward`, applies to the input, between layers and to
    the output. Out of training, the LSTM runs in `inference_dtype` (see
    `prediction_dtype`); its weights stay float32."""

    def __init__(
        self,
        nI: Optional[int],
        hidden_width: int,
        depth: int,
        bidirectional: bool,
        inference_dtype: str = "float32",
        variational_dropout: bool = False,
    ):
        super().__init__()
        self.variational_dropout = variational_dropout
        self.hidden_width = hidden_width
        self.depth = depth
        self.bidirectional = bidirectional
        self.inference_dtype = inference_dtype
        self.forward_layers = torch.nn.ModuleList()
        self.backward_layers = torch.nn.ModuleList()
        self._cast_weights: dict = {}
        if nI is not None:
            self.build(nI)

    @property
    def nO(self) -> int:
        return self.hidden_width * (2 if self.bidirectional else 1)

    @property
    def is_built(self) -> bool:
        return len(self.forward_layers) > 0

    def build(self, nI: int, device: Optional[torch.device] = None) -> None:
        for i in range(self.depth):
            width = nI if i == 0 else self.nO
            self.forward_layers.append(self._lstm(width, device))
            if self.bidirectional:
                self.backward_layers.append(self._lstm(width, device))

    def _lstm(self, nI: int, device: Optional[torch.device]) -> torch.nn.LSTM:
        return torch.nn.LSTM(nI, self.hidden_width, batch_first=True, device=device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        weights = state_dict.get(f"{prefix}forward_layers.0.weight_ih_l0")
        if not self.is_built and weights is not None:
            self.build(weights.shape[1], device=weights.device)
        self._cast_weights.clear()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def prediction_dtype(self, device: torch.device) -> Optional[torch.dtype]:
        """The dtype the LSTM predicts in on `device`, None for its weights' own:
        bfloat16 for "bfloat16", and for "auto" on a CPU whose oneDNN runs
        bfloat16 natively (AVX-512, AMX). Training always runs in float32."""
        if self.inference_dtype == "float32":
            return None
        if self.inference_dtype == "bfloat16" or (device.type == "cpu" and native_bfloat16_cpu()):
            return torch.bfloat16
        return None

    def _prediction_input(self, X: torch.Tensor) -> torch.Tensor:
        """X in the dtype the LSTM predicts in on X's device."""
        dtype = self.prediction_dtype(X.device)
        return X if dtype is None else X.to(dtype)

    def _run(self, lstm: torch.nn.LSTM, X: torch.Tensor, state=None) -> Tuple[torch.Tensor, tuple]:
        """`lstm` over X, with its weights cast to X's dtype where that differs."""
        if X.dtype == lstm.weight_ih_l0.dtype:
            return lstm(X, state)
        return torch.func.functional_call(lstm, self._weights_as(lstm, X.dtype), (X, state))

    def _weights_as(self, lstm: torch.nn.LSTM, dtype: torch.dtype) -> dict:
        """`lstm`'s parameters cast to `dtype`, kept until the weights change:
        a training pass (after which the optimizer may update them in place),
        a load (`load_state_dict`, also thinc's `use_params`) or a move to
        other memory drops the copies."""
        params = dict(lstm.named_parameters())
        memory = tuple(param.data_ptr() for param in params.values())
        kept_memory, weights = self._cast_weights.get((id(lstm), dtype), (None, None))
        if kept_memory != memory:
            weights = {name: param.detach().to(dtype) for name, param in params.items()}
            self._cast_weights[id(lstm), dtype] = (memory, weights)
        return weights

    def forward(
        self,
        X: torch.Tensor,
        lengths: torch.Tensor,
        dropout: float = 0.0,
        in_prediction_dtype: bool = False,
    ) -> torch.Tensor:
        """The LSTM's output, in X's dtype, or with `in_prediction_dtype`, in
        the dtype it predicted in."""
        if not self.is_built:
            raise ValueError("The LSTM was used before its input width was set.")
        n_seqs, n_steps, _ = X.shape
        if n_steps == 0:
            return X.new_zeros((n_seqs, 0, self.nO))
        output_dtype = X.dtype
        if self.training:
            self._cast_weights.clear()
        else:
            X = self._prediction_input(X)
        if self.bidirectional:
            reverse = _reversal_rows(lengths.to(X.device), n_steps)
        Y = self._dropout(X, dropout)
        for i, forward_layer in enumerate(self.forward_layers):
            Y_forward, _ = self._run(forward_layer, Y)
            if self.bidirectional:
                Y_backward, _ = self._run(self.backward_layers[i], _take_rows(Y, reverse))
                Y_forward = torch.cat([Y_forward, _take_rows(Y_backward, reverse)], dim=2)
            Y = self._dropout(Y_forward, dropout)
        return Y if in_prediction_dtype else Y.to(output_dtype)

    def _dropout(self, X: torch.Tensor, rate: float) -> torch.Tensor:
        """X (n_seqs, n_steps, width) with dropout at `rate` in training: each
        value on its own, or with `variational_dropout`, the same units of a
        sequence at every step (Gal and Ghahramani 2016)."""
        if not (self.training and rate > 0.0):
            return X
        if not self.variational_dropout:
            return torch.nn.functional.dropout(X, rate)
        keep = X.new_empty((X.shape[0], 1, X.shape[2])).bernoulli_(1.0 - rate)
        return X * keep / (1.0 - rate)

    def windows(
        self, inputs: Callable[[int], torch.Tensor], n_windows: int
    ) -> Iterator[torch.Tensor]:
        """The output of one long sequence, window by window, as one pass of
        `forward` gives it, holding one window's activations at a time.
        `inputs(k)` is the (1, length, nI) input of window k. Each layer and
        direction carries its (h, c) state across window boundaries: a sweep
        right to left keeps the right-to-left states at the boundaries (and, for
        all but the last layer, a sweep left to right the left-to-right ones),
        then the last pass recomputes each window from its boundary states.
        Inference only: no dropout, no gradient; the output is in the dtype
        the LSTM predicts in, as `forward` gives it with `in_prediction_dtype`."""
        no_state = [[None] * (n_windows + 1) for _ in range(self.depth)]
        ahead, behind = [list(s) for s in no_state], [list(s) for s in no_state]

        def layer_input(i: int, k: int) -> torch.Tensor:
            return self._prediction_input(inputs(k)) if i == 0 else layer_output(i - 1, k)

        def layer_output(i: int, k: int) -> torch.Tensor:
            X = layer_input(i, k)
            Y, ahead[i][k + 1] = self._run(self.forward_layers[i], X, ahead[i][k])
            if self.bidirectional:
                Y_backward, _ = self._run(self.backward_layers[i], X.flip(1), behind[i][k + 1])
                Y = torch.cat([Y, Y_backward.flip(1)], dim=2)
            return Y

        for i in range(self.depth):
            if i < self.depth - 1:
                for k in range(n_windows):
                    _, ahead[i][k + 1] = self._run(
                        self.forward_layers[i], layer_input(i, k), ahead[i][k]
                    )
            if self.bidirectional:
                for k in reversed(range(n_windows)):
                    _, behind[i][k] = self._run(
                        self.backward_layers[i], layer_input(i, k).flip(1), behind[i][k + 1]
                    )
        for k in range(n_windows):
            yield layer_output(self.depth - 1, k)


def _reversal_rows(lengths: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Row indices into a (n_seqs * n_steps, width) view of a padded batch
    that reverse each sequence within its own length, padding left in place."""
    steps = torch.arange(n_steps, device=lengths.device)[None]
    ends = lengths[:, None]
    within = torch.where(steps < ends, ends - 1 - steps, steps)
    return (within + torch.arange(len(lengths), device=lengths.device)[:, None] * n_steps).reshape(
        -1
    )


def _take_rows(X: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """X (n_seqs, n_steps, width) with its steps reordered by `rows` from
    `_reversal_rows`: one row copy per step, far cheaper than `gather`."""
    n_seqs, n_steps, width = X.shape
    return X.reshape(n_seqs * n_steps, width).index_select(0, rows).reshape(n_seqs, n_steps, width)


@lru_cache(maxsize=None)
def native_bfloat16_cpu() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels natively."""
    try:
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    except (AttributeError, RuntimeError):
        return False
