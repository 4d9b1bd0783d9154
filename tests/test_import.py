"""Installing the plugin changes nothing in spaCy processes that do not use it."""

import subprocess
import sys
import textwrap


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_spacy_loads_the_plugin_without_torch():
    out = run_python(
        """
        import sys
        sys.modules["torch"] = None  # any "import torch" now fails
        import spacy
        nlp = spacy.blank("en")
        nlp.add_pipe("entity_ruler")
        assert "spacy_lstm_ner.pipe" in sys.modules, "spaCy did not load the plugin"
        try:
            nlp.add_pipe("lstm_ner")
        except ImportError as error:
            print(error)
        """
    )
    assert "lstm_ner's LSTM needs PyTorch" in out


def test_plugin_leaves_torch_until_a_model_is_built():
    out = run_python(
        """
        import sys, spacy
        nlp = spacy.blank("en")
        print("spacy_lstm_ner.layers.torch_lstm" in sys.modules)
        nlp.add_pipe("lstm_ner")
        print("spacy_lstm_ner.layers.torch_lstm" in sys.modules)
        """
    )
    assert out.split() == ["False", "True"]


FORK_CHILD_THREADS = """
    import os, torch, spacy
    torch.set_num_threads(2)
    nlp = spacy.blank("en")
    {setup}
    pid = os.fork()
    if pid == 0:
        {in_child}
        os._exit(torch.get_num_threads())
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), torch.get_num_threads())
"""


def test_forked_child_of_a_process_without_lstm_ner_keeps_its_torch_threads():
    code = FORK_CHILD_THREADS.format(
        setup="import spacy_lstm_ner", in_child="nlp('Sharon flew to Miami.')"
    )
    assert run_python(code) == "2 2"


def test_forked_child_that_runs_lstm_ner_uses_one_torch_thread():
    setup = (
        "from spacy.training import Example; "
        "eg = Example.from_dict(nlp.make_doc('Sharon flew.'), {'entities': [(0, 6, 'PER')]}); "
        "nlp.add_pipe('lstm_ner'); nlp.initialize(lambda: [eg]); nlp('Sharon flew.')"
    )
    code = FORK_CHILD_THREADS.format(setup=setup, in_child="nlp('Sharon flew to Miami.')")
    assert run_python(code) == "1 2"


def test_plugin_and_its_apply_command_import_no_dask():
    out = run_python(
        """
        import sys, spacy_lstm_ner, spacy_lstm_ner.annotate
        print(sorted(m for m in ("dask", "distributed", "spacy_lstm_ner.layers.torch_lstm") if m in sys.modules))
        """
    )
    assert out == "[]"


def test_apply_without_dask_names_the_extra_to_install():
    out = run_python(
        """
        import sys
        sys.modules["distributed"] = None  # any "import distributed" now fails
        from spacy_lstm_ner.annotate import apply
        try:
            apply("no_model", "no_data", "no_output")
        except ImportError as error:
            print(error)
        """
    )
    assert 'pip install "spacy-lstm-ner[dask]"' in out
