"""The command line, `python -m spacy_lstm_ner COMMAND`: one Typer app, one module per
command, each a thin function that parses its arguments, calls the library and prints.

| command | module | library |
| --- | --- | --- |
| `apply` | `apply` | `spacy_lstm_ner.annotate.apply` |
| `calibrate` | `calibrate` | `spacy_lstm_ner.calibration.calibrate_pipeline` |
| `select` | `select` | `spacy_lstm_ner.selection.select` |
| `import` | `import_annotations` | `spacy_lstm_ner.selection.read_annotations` |
"""

from .app import app
from .apply import apply_cli
from .calibrate import calibrate_cli
from .import_annotations import import_cli
from .select import select_cli

__all__ = ["app", "apply_cli", "calibrate_cli", "import_cli", "select_cli"]
