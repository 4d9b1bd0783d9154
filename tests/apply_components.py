"""Test components for tests/test_apply.py, imported on the Dask workers with --code."""

import os
import time

from spacy.language import Language
from spacy.tokens import SpanGroup


@Language.component("test_span_marker")
def span_marker(doc):
    """A span group with a score per span, and user data, for the output to keep."""
    spans = [doc[i : i + 1] for i in range(0, len(doc), 3)]
    scores = [float(len(span.text)) for span in spans]
    doc.spans["marks"] = SpanGroup(doc, name="marks", spans=spans, attrs={"scores": scores})
    doc.user_data["n_tokens"] = len(doc)
    return doc


@Language.factory("test_sleeper", default_config={"seconds": 0.05, "log": ""})
def make_sleeper(nlp, name, seconds: float, log: str):
    def sleeper(doc):
        """Logs "pid<TAB>text" for each doc it starts, then sleeps."""
        with open(log, "a", encoding="utf8") as file:
            file.write(f"{os.getpid()}\t{doc.text}\n")
        time.sleep(seconds)
        return doc

    return sleeper
