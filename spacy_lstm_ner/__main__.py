"""`python -m spacy_lstm_ner COMMAND`: the commands of `spacy_lstm_ner.cli`."""

from .cli import app

if __name__ == "__main__":
    app()
