"""torch.utils.hooks: RemovableHandle (the one dagrad's autograd, nn and optim use)."""
from ..autograd.function import RemovableHandle

__all__ = ["RemovableHandle"]
