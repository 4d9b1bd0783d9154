import pytest
from util import overfit_pipeline, small_model_config


@pytest.fixture(scope="session")
def trained_nlp():
    """A small pipeline overfit on TRAIN_DATA, shared by read-only tests."""
    return overfit_pipeline(small_model_config())
