"""One set of defaults: the architectures' signatures, the factory's default
model, the tables of docs/configuration.md and configs/bilstm.cfg agree, and a
shipped config names every setting of its model and departs from a default only
with a comment that says why."""

import inspect
import re

import pytest
import spacy
from spacy.language import Language
from spacy.util import load_config, registry
from thinc.api import Config
from util import ROOT

from spacy_lstm_ner.factory import DEFAULT_MODEL

DOCS = ROOT / "docs" / "configuration.md"
CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
NO_DEFAULT = "no default"  # what a setting without one has, in the code and in the docs
TAGGER = "spacy_lstm_ner.BiLSTMTagger.v1"
CRF = "spacy_lstm_ner.BiLSTMCRFTagger.v2"
EMBEDS = [
    "spacy_lstm_ner.FeatureEmbed.v1",
    "spacy_lstm_ner.FeatureEmbed.v2",
    "spacy_lstm_ner.WordEmbed.v1",
    "spacy_lstm_ner.WindowEmbed.v1",
]


def signature_defaults(name: str) -> dict:
    """{setting: default} of the registered architecture `name`, as a config has them."""
    parameters = inspect.signature(registry.architectures.get(name)).parameters
    return {
        setting: (
            NO_DEFAULT
            if parameter.default is inspect.Parameter.empty
            else list(parameter.default)
            if isinstance(parameter.default, tuple)
            else parameter.default
        )
        for setting, parameter in parameters.items()
    }


def factory_defaults() -> dict:
    spacy.blank("en")  # a Language loads the factory entry points
    return Language.get_factory_meta("lstm_ner").default_config


def documented_tables() -> dict:
    """{owner: {setting: default cell}} of every `| setting | default |` table of
    configuration.md, the owner being the registered name in backticks of the
    heading or bold paragraph above the table ("lstm_ner" under "The component")."""
    tables, owner, table = {}, None, None
    for line in FENCE.sub("", DOCS.read_text(encoding="utf8")).splitlines():
        heading = re.match(r"#+ (.*)|\*\*(.*?)\*\*", line)
        if heading:
            title = heading.group(1) or heading.group(2)
            names = re.findall(r"`(spacy_lstm_ner\.[\w.]+)`", title)
            owner = names[0] if names else "lstm_ner" if title == "The component" else None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            table = None
        elif cells[:2] == ["setting", "default"]:
            assert owner and owner not in tables, f"a defaults table under {owner!r}"
            table = tables[owner] = {}
        elif table is not None and cells[0].startswith("`"):
            table[cells[0].strip("`")] = cells[1]
    return tables


def documented_value(cell: str):
    """The default a table cell gives: its first `code` or word, read as a config
    value (what follows it, in parentheses, names the configs that differ)."""
    if not cell:
        return NO_DEFAULT
    code, word = re.match(r"`([^`]*)`|(\S+)", cell).groups()
    return Config().from_str(f"[cell]\nvalue = {word if code is None else code}")["cell"]["value"]


def documented_defaults(owner: str) -> dict:
    return {setting: documented_value(cell) for setting, cell in documented_tables()[owner].items()}


@pytest.mark.parametrize("name", [TAGGER, *EMBEDS])
def test_docs_give_each_architectures_defaults(name):
    assert documented_defaults(name) == signature_defaults(name)


def test_docs_give_the_crf_taggers_defaults_where_they_differ_from_the_taggers():
    documented = {**documented_defaults(TAGGER), **documented_defaults(CRF)}
    assert documented == signature_defaults(CRF)
    assert signature_defaults(CRF) != signature_defaults(TAGGER)
    # v1 is the same function: pipelines saved with it name their width and dropout
    v1 = registry.architectures.get("spacy_lstm_ner.BiLSTMCRFTagger.v1")
    assert v1 is registry.architectures.get(CRF)


def test_docs_give_the_components_defaults():
    factory = factory_defaults()
    cells = documented_tables()["lstm_ner"]
    assert set(cells) == set(factory)
    for setting in set(factory) - {"model", "scorer"}:
        assert documented_value(cells[setting]) == factory[setting], setting
    model = re.findall(r"`([^`]+)`", cells["model"])[:2]
    assert model == [
        DEFAULT_MODEL["@architectures"].removeprefix("spacy_lstm_ner."),
        DEFAULT_MODEL["embed"]["@architectures"].removeprefix("spacy_lstm_ner."),
    ]
    assert factory["scorer"]["@scorers"].endswith(re.findall(r"`([^`]+)`", cells["scorer"])[0])


def test_factory_default_model_names_each_architectures_defaults():
    assert DEFAULT_MODEL["@architectures"] == TAGGER
    for block in (DEFAULT_MODEL, DEFAULT_MODEL["embed"]):
        named = {k: v for k, v in block.items() if k not in ("@architectures", "embed")}
        defaults = signature_defaults(block["@architectures"])
        assert named == {k: v for k, v in defaults.items() if v != NO_DEFAULT}


def test_add_pipe_builds_the_factory_default_model_and_nothing_else():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_ner")
    assert nlp.config["components"]["lstm_ner"]["model"] == DEFAULT_MODEL


def test_factory_default_is_bilstm_cfg_but_for_what_bilstm_cfg_comments():
    shipped = load_config(ROOT / "configs" / "bilstm.cfg")["components"]["lstm_ner"]
    model = shipped["model"]
    assert model["embed"] == DEFAULT_MODEL["embed"]
    assert differing(DEFAULT_MODEL, model) == {"inference_dtype"}
    component = {k: v for k, v in shipped.items() if k != "factory"}
    assert differing(factory_defaults(), component) == {"model", "score_ents"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.name)
def test_shipped_config_names_every_setting_of_its_model(path):
    """So that a default changed in the code never changes a shipped config's model."""
    component = load_config(path)["components"]["lstm_ner"]
    assert set(factory_defaults()) <= set(component)
    for block in (component["model"], component["model"]["embed"]):
        named = set(block) - {"@architectures"}
        assert named == set(signature_defaults(block["@architectures"])), block["@architectures"]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.name)
def test_shipped_config_says_why_it_departs_from_a_default(path):
    config = load_config(path)
    departures = set()
    component = config["components"]["lstm_ner"]
    factory = factory_defaults()
    section = "components.lstm_ner"
    for setting in differing(factory, component) - {"factory", "model"}:
        departures.add((section, setting))
    for block, default_block, name in (
        (component["model"], DEFAULT_MODEL, f"{section}.model"),
        (component["model"]["embed"], DEFAULT_MODEL["embed"], f"{section}.model.embed"),
    ):
        if block["@architectures"] != default_block["@architectures"]:
            departures.add((name, "@architectures"))
        defaults = signature_defaults(block["@architectures"])
        for setting in differing(defaults, block) - {"@architectures", "embed"}:
            departures.add((name, setting))
    uncommented = departures - commented(path.read_text(encoding="utf8"))
    assert not uncommented, f"{path.name} departs from a default without a comment: {uncommented}"


def test_departures_are_found_and_must_be_commented():
    text = "[a]\n# why\nx = 1\ny = 2\n\n[b]\n# not about z\n\nz = 3\n"
    assert commented(text) == {("a", "x")}
    assert differing({"x": 1, "y": 2}, {"x": 1, "y": 3}) == {"y"}


def differing(defaults: dict, block: dict) -> set:
    """The settings of `block` whose value is not the one in `defaults`."""
    return {setting for setting in block if defaults.get(setting, NO_DEFAULT) != block[setting]}


def commented(config_text: str) -> set:
    """{(section, setting)} of the config's settings with a comment line right above them."""
    found, section, after_comment = set(), None, False
    for line in config_text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            after_comment = True
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and after_comment:
            found.add((section, line.split("=")[0].strip()))
        after_comment = False
    return found
