"""The one Typer app of `python -m spacy_lstm_ner`; each command registers on it."""

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="spacy-lstm-ner commands.")
