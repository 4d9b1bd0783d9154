import pytest
from util import crf_config, overfit_pipeline, small_model_config


@pytest.fixture(scope="session")
def trained_nlp():
    """A small pipeline overfit on TRAIN_DATA, shared by read-only tests."""
    return overfit_pipeline(small_model_config())


@pytest.fixture(scope="session")
def crf_nlp():
    """The same with the CRF head, shared by read-only tests."""
    return overfit_pipeline(crf_config())


@pytest.fixture(scope="session", params=["softmax", "crf"])
def head_nlp(request, trained_nlp, crf_nlp):
    """Each head's overfit pipeline in turn."""
    return trained_nlp if request.param == "softmax" else crf_nlp
