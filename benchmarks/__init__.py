"""The project's benchmarks, run from the repository root as `python -m benchmarks.<module>`
(benchmarks/README.md); not part of the installed spacy-lstm-ner package."""
