"""The command line, `python -m spacy_lstm_ner COMMAND`: one Typer app, one module per
command, each a thin function that parses its arguments, calls the library and prints.

| command | module | library |
| --- | --- | --- |
| `apply` | `apply` | `spacy_lstm_ner.annotate.apply` |
| `calibrate` | `calibrate` | `spacy_lstm_ner.calibration.calibrate_pipeline` |
"""

from .app import app
from .apply import apply_cli
from .calibrate import calibrate_cli

__all__ = ["app", "apply_cli", "calibrate_cli"]
