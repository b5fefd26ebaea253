"""dagrad.optim: PyTorch's optimizers and learning-rate schedulers on NumPy."""
from . import lr_scheduler  # noqa: F401
from ._adafactor import Adafactor
from ._muon import Muon
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["ASGD", "Adafactor", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Muon",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "lr_scheduler", "swa_utils"]


def __getattr__(name):
    if name == "swa_utils":
        import importlib
        mod = importlib.import_module(".swa_utils", __name__)
        globals()["swa_utils"] = mod
        return mod
    raise AttributeError(f"module 'dagrad.optim' has no attribute '{name}'")
