import os
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("DAGRAD_HOME", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache",
                                                  "dagrad_home"))


@pytest.fixture(autouse=True)
def _seed():
    import dagrad
    dagrad.manual_seed(0)
    np.random.seed(0)
    yield


def pytest_configure(config):
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch")
