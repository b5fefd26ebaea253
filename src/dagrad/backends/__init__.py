"""torch.backends: what dagrad's NumPy (and optional CuPy) backend offers.

mps / cudnn / mkldnn flags are kept as module attributes so scripts can set them
(`torch.backends.cudnn.benchmark = True`) without effect.
"""
from . import cpu, cuda, cudnn, mkldnn, mps, openmp, opt_einsum  # noqa: F401
