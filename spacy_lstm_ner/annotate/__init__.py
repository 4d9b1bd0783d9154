"""Batch annotation of large corpora with any spaCy pipeline on a Dask cluster:
`python -m spacy_lstm_ner apply`. Dask is imported only when a run starts.

| module | job |
| --- | --- |
| `inputs` | finding and reading the input documents as `spacy apply` does |
| `shards` | cutting them into shards, and what a shard's task carries |
| `worker` | the worker side: the pipeline loaded once per process, run over a shard |
| `docbin` | DocBin bytes written and read without `DocBin.add`'s cost per token and per doc |
| `manifest` | `manifest.json`, resume, atomic writes |
| `runner` | the Dask client: cluster, tasks, progress, summary |
"""

from .inputs import InputError
from .manifest import ManifestError
from .runner import ModelError, Summary, apply

__all__ = ["InputError", "ManifestError", "ModelError", "Summary", "apply"]
