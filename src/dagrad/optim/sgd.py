"""torch.optim.SGD."""
import threading

import numpy as np

from ..tensor import Tensor, _make
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_fused,
    _f,
    _grad_of,
    _like_param,
    _real,
    _use_grad_for_differentiable,
)

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            self._step_supports_amp_scaling = True
            self._need_device_dtype_check_for_fused = True
            _check_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def _init_group(self, group, params, grads, momentum_buffer_list):
        for p in group["params"]:
            if p.grad is not None:
                params.append(p)
                grads.append(p.grad)
                if group["momentum"] != 0:
                    momentum_buffer_list.append(self.state[p].get("momentum_buffer"))
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params, grads, momentum_buffer_list = [], [], []
            self._init_group(group, params, grads, momentum_buffer_list)
            sgd(params, grads, momentum_buffer_list, weight_decay=group["weight_decay"],
                momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
                nesterov=group["nesterov"], maximize=group["maximize"])
            if group["momentum"] != 0:
                for p, buf in zip(params, momentum_buffer_list):
                    self.state[p]["momentum_buffer"] = buf
        return loss


_tls = threading.local()


def _scratch(n, dtype):
    """A reusable flat temporary of n <= _CHUNK elements (one per thread and dtype), so the
    update allocates (and page-faults) no fresh arrays each step and holds at most one chunk."""
    d = getattr(_tls, "bufs", None)
    if d is None:
        d = _tls.bufs = {}
    buf = d.get(dtype)
    if buf is None:
        buf = d[dtype] = np.empty(_CHUNK, dtype)
    return buf[:n]


def _flat_ok(*arrs):
    a0 = arrs[0]
    if type(a0) is not np.ndarray:  # the chunked NumPy kernels are for host arrays
        return False
    return all(a.dtype == a0.dtype and a.shape == a0.shape and a.flags.c_contiguous
               for a in arrs)


def _axpy(p, g, alpha):
    """p += alpha * g (the product rounded first, as before) through a chunk-sized scratch."""
    p, g = p.reshape(-1), g.reshape(-1)
    mult, add = np.multiply, np.add
    t = _scratch(min(p.size, _CHUNK), p.dtype)
    for s in range(0, p.size, _CHUNK):
        e = s + _CHUNK
        ps = p[s:e]
        ts = t[:ps.size]
        mult(g[s:e], alpha, out=ts)
        add(ps, ts, out=ps)


def sgd(params, d_p_list, momentum_buffer_list, has_sparse_grad=False, foreach=None,
        fused=None, grad_scale=None, found_inf=None, *, weight_decay, momentum, lr,
        dampening, nesterov, maximize):
    """Functional SGD (single-tensor path); `momentum_buffer_list` entries are filled in.

    PyTorch's operations in the same order and precision (buf = buf*momentum + (1-dampening)*g;
    p += (-lr)*d_p), over cache-sized chunks through a reused per-thread scratch buffer."""
    lr = _f(lr)
    weight_decay = _f(weight_decay)
    add = np.add
    work = []  # (p, buf, g) of the common momentum case, run together below (threaded)
    for i, param in enumerate(params):
        p = _real(param._data)
        g = _grad_of(d_p_list[i], param, maximize)
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = _make(_like_param(g.copy(), param))
                momentum_buffer_list[i] = buf
            else:
                b = _real(buf._data)
                if dampening == 0 and not nesterov and _flat_ok(p, b, g):
                    work.append((p, b, g))
                    buf._bump()
                    param._bump()
                    continue
                b *= momentum
                if dampening == 0:
                    add(b, g, out=b)
                else:
                    b += (1 - dampening) * g
                buf._bump()
            b = _real(buf._data)
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        if _flat_ok(p, g):
            _axpy(p, g, -lr)
        else:
            p += (-lr) * g
        param._bump()
    if work:
        _momentum_all(work, momentum, lr)


_CHUNK = 1 << 16
_PAR_MIN = 1 << 20  # elements: below this a thread hand-off costs more than it saves


def _momentum_all(work, momentum, lr):
    """_momentum_update_chunked over every (p, buf, g), split across the worker threads when
    the step is large (a memory-bound pass: PyTorch's foreach kernels use all cores too).
    Each element is updated exactly once, so the split does not change any value."""
    total = sum(p.size for p, _, _ in work)
    k = _workers(total)
    if k == 1:
        for p, b, g in work:
            _momentum_update_chunked(p, b, g, momentum, lr)
        return
    pieces = []
    per = -(-total // k)
    for p, b, g in work:  # cut big tensors so that k groups of ~total/k elements exist
        p, b, g = p.reshape(-1), b.reshape(-1), g.reshape(-1)
        for s in range(0, p.size, per):
            pieces.append((p[s:s + per], b[s:s + per], g[s:s + per]))
    groups = [[] for _ in range(k)]
    sizes = [0] * k
    for piece in sorted(pieces, key=lambda t: -t[0].size):  # greedy: largest first
        j = sizes.index(min(sizes))
        groups[j].append(piece)
        sizes[j] += piece[0].size

    def run(group):
        for p, b, g in group:
            _momentum_update_chunked(p, b, g, momentum, lr)
    pool = _pool()
    futs = [pool.submit(run, grp) for grp in groups[1:]]
    run(groups[0])
    for f in futs:
        f.result()


def _workers(n):
    if n < _PAR_MIN:
        return 1
    from ..ops.conv import _par_setup
    st = _par_setup()
    if not st or st[2] is None:
        return 1
    nthreads = max(c.num_threads for c in st[1])  # honours set_num_threads
    return max(1, min(st[3], nthreads))


def _pool():
    from ..ops.conv import _par_setup
    return _par_setup()[2]


def _momentum_update_chunked(p, b, g, momentum, lr):
    """b = b*momentum + g; p += (-lr)*b over cache-sized chunks of flat C-contiguous arrays:
    each element is read and written once from memory instead of once per operation."""
    p, b, g = p.reshape(-1), b.reshape(-1), g.reshape(-1)
    n = p.size
    t = _scratch(min(n, _CHUNK), p.dtype)
    mult, add = np.multiply, np.add
    for s in range(0, n, _CHUNK):
        e = s + _CHUNK
        bs = b[s:e]
        ts = t[:bs.size]
        mult(bs, momentum, out=bs)
        add(bs, g[s:e], out=bs)
        mult(bs, -lr, out=ts)
        ps = p[s:e]
        add(ps, ts, out=ps)
