"""Loading an lstm_ner component with errors that name what is wrong: the
missing or damaged file or part, or weights that belong to other labels or
another tag scheme."""

from typing import Callable

import srsly
from spacy.util import ensure_path


class CheckedLoading:
    """`from_bytes` and `from_disk` for a `TrainablePipe` with `cfg["scheme"]`,
    `tags` and an `output_layer` ref: spaCy's loading, and then a check that
    the weights fit the labels."""

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "CheckedLoading":
        """Load from bytes; damaged or mismatched bytes raise an error that says which part."""
        scheme = self.cfg["scheme"]
        try:
            super().from_bytes(bytes_data, exclude=exclude)
        except _LOAD_ERRORS as error:
            where = _damaged_part(
                lambda: srsly.json_loads(srsly.msgpack_loads(bytes_data)["cfg"]),
                "the bytes' cfg",
                "the bytes' model",
            )
            raise ValueError(
                f"Cannot load {self.name}: {where} ({type(error).__name__}: {error})."
            ) from error
        self._check_loaded("the bytes given", scheme)
        return self

    def from_disk(self, path, *, exclude=tuple()) -> "CheckedLoading":
        """Load from a directory; a missing, damaged or mismatched file raises
        an error that names it."""
        path = ensure_path(path)
        scheme = self.cfg["scheme"]
        for name in ("cfg", "model"):
            if name not in exclude and not (path / name).exists():
                raise ValueError(f"Cannot load {self.name}: {path / name} is missing.")
        try:
            super().from_disk(path, exclude=exclude)
        except _LOAD_ERRORS as error:
            where = _damaged_part(
                lambda: srsly.read_json(path / "cfg"), str(path / "cfg"), str(path / "model")
            )
            raise ValueError(
                f"Cannot load {self.name}: {where} ({type(error).__name__}: {error})."
            ) from error
        self._check_loaded(str(path / "model"), scheme)
        return self

    def _check_loaded(self, source: str, built_with: str) -> None:
        """The loaded weights score this component's tags, in the scheme it was built with."""
        if self.cfg["scheme"] != built_with:
            raise ValueError(
                f"{self.name} was built with scheme {built_with!r} but {source} holds a "
                f"{self.cfg['scheme']!r} component: build it with scheme = {self.cfg['scheme']!r}."
            )
        n_out = self.model.get_ref("output_layer").maybe_get_dim("nO")
        if n_out is not None and n_out != len(self.tags):
            raise ValueError(
                f"{self.name}'s model in {source} scores {n_out} tags, but its labels "
                f"{list(self.labels)} make {len(self.tags)} {self.cfg['scheme']} tags: "
                "the weights and the labels come from different pipelines."
            )


_LOAD_ERRORS = (ValueError, TypeError, KeyError, RuntimeError, EOFError, OSError)


def _damaged_part(read_cfg: Callable[[], object], cfg_name: str, model_name: str) -> str:
    """Which part failed to load: the cfg, if it does not parse, else the model."""
    try:
        read_cfg()
    except _LOAD_ERRORS:
        return f"{cfg_name} is damaged"
    return f"{model_name} is damaged or does not fit this component's config"
