"""dagrad.nn: PyTorch's torch.nn (modules, parameters, functional, init, utils)."""
from . import functional, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .modules.module import (register_module_forward_hook,  # noqa: F401
                             register_module_forward_pre_hook)
from .parameter import (Buffer, Parameter, UninitializedBuffer,  # noqa: F401
                        UninitializedParameter)
from . import utils  # noqa: F401,E402
from . import modules  # noqa: F401,E402
