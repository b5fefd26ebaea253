"""dagrad.nn: PyTorch's torch.nn (modules, parameters, functional, init, utils)."""
from . import (  # noqa: F401
                             functional,
                             init,
                             modules,  # noqa: F401,E402
                             utils,  # noqa: F401,E402
)
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .modules.module import register_module_forward_hook, register_module_forward_pre_hook  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
