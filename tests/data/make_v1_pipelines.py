"""Made the pipelines in tests/data with spacy-lstm-ner 0.1.0 (v1 architectures, v1 scorer): python tests/data/make_v1_pipelines.py, run at the repository root with that version."""

import json
import sys

sys.path.insert(0, "tests")
import spacy
from conftest import TRAIN_DATA, make_examples, train_pipeline
from spacy.util import fix_random_seed


def embed():
    return {
        "@architectures": "spacy_lstm_ner.FeatureEmbed.v1",
        "attrs": ["NORM", "SHAPE"],
        "widths": [16, 8],
        "rows": [200, 50],
        "chars": 2,
        "char_width": 4,
    }


texts = [t for t, _ in TRAIN_DATA] + ["Merkel met Apple in Berlin on Friday."]
expected = {}
for name, arch in [
    ("v1_softmax", "spacy_lstm_ner.BiLSTMTagger.v1"),
    ("v1_crf", "spacy_lstm_ner.BiLSTMCRFTagger.v1"),
]:
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "lstm_ner", config={"model": {"@architectures": arch, "hidden_width": 8, "embed": embed()}}
    )
    train_pipeline(nlp, make_examples(nlp), n_iter=150)
    nlp.to_disk(f"tests/data/{name}")
    expected[name] = [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)
    ]
json.dump({"texts": texts, "ents": expected}, open("tests/data/v1_predictions.json", "w"), indent=1)
print(expected)
