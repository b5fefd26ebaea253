"""torch.linalg: decompositions, solvers, inverses and norms with gradients, on NumPy.

Every primitive here (inv, det, slogdet, solve, solve_triangular, cholesky, qr, eigh, svd, pinv,
cross, lstsq) computes its result with NumPy's batched LAPACK wrappers and records a node named as
PyTorch names it (`LinalgInvExBackward0`...). Rules live in ops/derivatives.py and are written in
dagrad ops, so they differentiate again. The rest (norms, matrix_power, multi_dot, vander,
tensorinv, cholesky_solve...) are compositions of those. Singular / non positive-definite inputs
raise `LinAlgError` (a RuntimeError) with PyTorch's message, naming the batch element.
"""
import builtins
import collections
import math

from . import _dtype as D
from .backend import contiguous as _contig
from .backend import get_array_module as _gam
from .ops import derivatives as R
from .ops._core import Tensor, _make, grad_state, link, link_multi, np, save, save_result, wrap_dim
from .ops._core import arr as _arr
from .ops.reduce import vector_norm as _vector_norm

__all__ = ["LinAlgError", "inv", "inv_ex", "det", "slogdet", "logdet", "solve", "solve_ex",
           "lstsq", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals",
           "svd", "svdvals", "pinv", "matrix_norm", "vector_norm", "norm", "matrix_power",
           "matrix_rank", "cross", "multi_dot", "vander", "tensorinv", "tensorsolve",
           "solve_triangular", "cholesky_inverse", "cholesky_solve", "triangular_solve",
           "matmul", "vecdot", "diagonal", "cond", "inverse", "svd_legacy", "cdist",
           "householder_product", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "lu_unpack",
           "matrix_exp"]


class LinAlgError(RuntimeError):
    """PyTorch's torch.linalg.LinAlgError (torch._C._LinAlgError): a RuntimeError."""


_LinAlgError = LinAlgError

_SlogdetT = collections.namedtuple("torch_return_types", ["sign", "logabsdet"])
_SlogdetT.__name__ = "linalg_slogdet"
_EighT = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_EigT = collections.namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
_SvdT = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
_SvdLegacyT = collections.namedtuple("svd", ["U", "S", "V"])
_QrT = collections.namedtuple("linalg_qr", ["Q", "R"])
_LstsqT = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank",
                                                  "singular_values"])
_InvExT = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
_CholExT = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
_SolveExT = collections.namedtuple("linalg_solve_ex", ["result", "info"])
_TriSolveT = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


# ---------------------------------------------------------------- checks and helpers
def _pt(npdt):
    from .ops.elementwise import _pt_name
    return _pt_name(np.dtype(npdt))


def _check(A, fname, square=True, ndim_msg="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname}(): argument '{ndim_msg}' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {ndim_msg} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{fname}: {ndim_msg} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    _check_float(a, fname)
    return a


# the CPU kernel PyTorch names when it refuses a dtype, per op
_KERNEL = {"linalg.det": "lu_cpu", "linalg.solve": "lu_cpu", "linalg.solve_ex": "lu_cpu",
           "linalg.lu_factor": "lu_cpu", "linalg.lu_factor_ex": "lu_cpu", "linalg.lu": "lu_cpu",
           "linalg.lu_solve": "lu_cpu", "linalg.cholesky": "cholesky_cpu",
           "linalg.cholesky_ex": "cholesky_cpu", "linalg.eigh": "linalg_eigh_cpu",
           "linalg.svd": "linalg_svd_cpu", "linalg.qr": "geqrf_cpu",
           "linalg.eig": "linalg_eig_out_cpu", "linalg.eigvals": "linalg_eig_out_cpu"}
_INT_BY_KERNEL = {"linalg.eigh", "linalg.lu_factor", "linalg.lu_factor_ex", "linalg.lu"}
_LOW_PRECISION = {"linalg.inv", "linalg.inv_ex", "linalg.slogdet", "logdet"}


def _check_float(a, fname):
    low = a.dtype == np.float16 or a.dtype.name == "bfloat16"
    if a.dtype.kind not in "fc" or low:
        if fname in ("linalg.eig", "linalg.eigvals") and not low:
            raise RuntimeError(f"Unknown Complex ScalarType for {_pt(a.dtype)}")
        if low and fname in _LOW_PRECISION:
            raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {_pt(a.dtype)}")
        if low or fname in _INT_BY_KERNEL:
            k = _KERNEL.get(fname, fname.split(".")[-1] + "_cpu")
            raise NotImplementedError(f'"{k}" not implemented for \'{_pt(a.dtype)}\'')
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{_pt(a.dtype)}")


def _rec(*ts):
    if not grad_state.enabled:
        return False
    for t in ts:
        if isinstance(t, Tensor) and t._rg:
            return True
    return False


def _prefix(a, k):
    return f"(Batch element {k}): " if a.ndim > 2 else ""


def _lu_info(a):
    """Per matrix: 1-based index of the first zero pivot of partial-pivot LU (0 if none)."""
    if type(a) is not np.ndarray:  # CuPy: the elimination runs on a host copy (error path)
        return _lu_info(a.get())
    n = a.shape[-1]
    m = np.array(a.reshape(-1, n, n), dtype=np.complex128 if a.dtype.kind == "c" else np.float64)
    B = m.shape[0]
    info = np.zeros(B, dtype=np.int64)
    idx = np.arange(B)
    for k in range(n):
        p = np.argmax(np.abs(m[:, k:, k]), axis=1) + k
        rk = m[idx, k].copy()
        m[idx, k] = m[idx, p]
        m[idx, p] = rk
        piv = m[:, k, k]
        zero = piv == 0
        info[(info == 0) & zero] = k + 1
        safe = np.where(zero, 1, piv)
        lcol = m[:, k + 1:, k] / safe[:, None]
        lcol[zero] = 0
        m[:, k + 1:, :] -= lcol[:, :, None] * m[:, k, None, :]
    return info


def _chol_info(a):
    """Per matrix: order of the first leading minor that is not positive-definite (0 if none)."""
    if type(a) is not np.ndarray:  # CuPy: on a host copy (error path)
        return _chol_info(a.get())
    n = a.shape[-1]
    m = np.array(a.reshape(-1, n, n), dtype=np.complex128 if a.dtype.kind == "c" else np.float64)
    B = m.shape[0]
    L = np.zeros_like(m)
    info = np.zeros(B, dtype=np.int64)
    for j in range(n):
        d = (m[:, j, j] - (L[:, j, :j] * L[:, j, :j].conj()).sum(-1)).real
        bad = ~(d > 0)
        info[(info == 0) & bad] = j + 1
        dj = np.sqrt(np.where(bad, 1.0, d))
        L[:, j, j] = dj
        L[:, j + 1:, j] = (m[:, j + 1:, j] - (L[:, j + 1:, :j] @ L[:, j, :j, None].conj())[..., 0]
                           ) / dj[:, None]
    return info


def _raise_singular_inv(a, fname="linalg.inv"):
    info = _lu_info(a)
    bad = np.nonzero(info)[0]
    k = int(bad[0]) if bad.size else 0
    piv = int(info[k]) if bad.size else a.shape[-1]
    raise LinAlgError(
        f"{fname}: {_prefix(a, k)}The diagonal element {piv} is zero, the inversion could not be "
        f"completed because the input matrix is singular.")


def _mH(x):
    """x^H through patchable Tensor ops (mT, conj), so forward AD sees it."""
    return x.mT.conj() if x._data.dtype.kind == "c" else x.mT


def _eye_like(a):
    return np.broadcast_to(_gam(a).eye(a.shape[-1], dtype=a.dtype), a.shape)


# ---------------------------------------------------------------- inverse, det
def _inv_np(a, fname="linalg.inv", check=True):
    if a.size == 0:
        return np.empty(a.shape, a.dtype), np.zeros(a.shape[:-2], np.int32)
    try:
        return np.linalg.inv(a), _gam(a).zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        if check:
            _raise_singular_inv(a, fname)
        info = _lu_info(a).reshape(a.shape[:-2]).astype(np.int32)
        with np.errstate(all="ignore"):
            r = _gam(a).full(a.shape, np.nan, dtype=a.dtype)
            flat_ok = (info.reshape(-1) == 0)
            if flat_ok.any():
                ar = a.reshape(-1, *a.shape[-2:])
                rr = r.reshape(-1, *a.shape[-2:])
                rr[flat_ok] = np.linalg.inv(ar[flat_ok])
        return r, (info if type(a) is np.ndarray else _gam(a).asarray(info))


def inv(A, *, out=None):
    a = _check(A, "linalg.inv")
    r, _ = _inv_np(a)
    res = _make(r)
    if _rec(A):
        n = R.LinalgInvExBackward0()
        save_result(n, res)
        link(n, res, A)
    return _out(res, out)


def inv_ex(A, *, check_errors=False, out=None):
    a = _check(A, "linalg.inv")
    r, info = _inv_np(a, "linalg.inv_ex", check=check_errors)
    res = _make(r)
    if _rec(A):
        n = R.LinalgInvExBackward0()
        save_result(n, res)
        link(n, res, A)
    return _InvExT(res, _make(_arr(info, np.int32)))


def inverse(A, *, out=None):
    return inv(A, out=out)


def det(A, *, out=None):
    a = _check(A, "linalg.det")
    r = _arr(np.linalg.det(a) if a.size else np.ones(a.shape[:-2], a.dtype), a.dtype)
    res = _make(r)
    if _rec(A):
        n = R.LinalgDetBackward0()
        save(n, A)
        save_result(n, res)
        link(n, res, A)
    return _out(res, out)


def slogdet(A, *, out=None):
    a = _check(A, "linalg.slogdet")
    if a.size:
        s, l = np.linalg.slogdet(a)
    else:
        s, l = np.ones(a.shape[:-2], a.dtype), np.zeros(a.shape[:-2], a.dtype)
    sign = _make(_arr(s, a.dtype))
    logabs = _make(_arr(l, a.real.dtype))
    if _rec(A):
        n = R.LinalgSlogdetBackward0()
        save(n, A)
        link_multi(n, (sign, logabs), A)
    return _SlogdetT(sign, logabs)


def logdet(A):
    _check(A, "logdet")
    sign, logabs = slogdet(A)
    from .ops.elementwise import where
    nan = _make(np.asarray(np.nan, dtype=logabs._data.dtype))
    return where(_make(sign._data < 0), nan, logabs)


# ---------------------------------------------------------------- solvers
def _vector_case(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def _promote2(A, B, fname):
    a, b = A._data, B._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{fname}: Expected A and B to have the same dtype, but found A of type "
            f"{_pt(a.dtype)} and B of type {_pt(b.dtype)} instead")
    return a, b


def _solve_np(a, b, fname="torch.linalg.solve"):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        info = _lu_info(np.broadcast_to(a, np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                                        + a.shape[-2:]))
        bad = np.nonzero(info)[0]
        k = int(bad[0]) if bad.size else 0
        raise LinAlgError(f"{fname}: {_prefix(a, k)}The solver failed because the input matrix "
                          f"is singular.") from None
    except ValueError:
        raise RuntimeError(
            f"{fname}: Incompatible shapes of A and B for the equation AX = B "
            f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})") from None


def solve(A, B, *, left=True, out=None):
    a = _check(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg_solve(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    a, b = _promote2(A, B, "linalg.solve")
    vec = _vector_case(a, b)
    if vec:
        if not left:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               "equivalent to B / A.squeeze(-1)")
        bm = b[..., None]
    else:
        bm = b
    if b.ndim == 0 or (left and bm.shape[-2] != a.shape[-1]) or (
            not left and bm.shape[-1] != a.shape[-2]):
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
            f"{bm.shape[-2] if bm.ndim > 1 else 1}x{bm.shape[-1]})")
    if left:
        x = _solve_np(a, bm)
    else:
        x = np.swapaxes(_solve_np(np.swapaxes(a, -1, -2), np.swapaxes(bm, -1, -2)), -1, -2)
    if vec:
        x = x[..., 0]
    res = _make(_contig(x))
    if _rec(A, B):
        n = R.LinalgSolveExBackward0()
        n.left, n.vec = left, vec
        xb = x.shape[:-1] if vec else x.shape[:-2]
        n._meta = (None if a.shape[:-2] == xb else (a.shape, a.dtype),
                   None if b.shape == x.shape else (b.shape, b.dtype))
        save(n, A)
        save_result(n, res)
        link(n, res, A, B)
    return _out(res, out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    a = _check(A, "linalg.solve_ex")
    try:
        r = solve(A, B, left=left)
        info = _gam(a).zeros(a.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        info = _lu_info(a).reshape(a.shape[:-2]).astype(np.int32)
        r = _make(np.full(np.broadcast_shapes(a.shape[:-1], B._data.shape[:-1])
                          + B._data.shape[-1:], np.nan, a.dtype))
    return _SolveExT(r, _make(info))


def _tri_solve_np(a, b, upper, left, unitriangular):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        n = t.shape[-1]
        t = t.copy()
        t[..., np.arange(n), np.arange(n)] = 1
    with np.errstate(all="ignore"):
        if left:
            try:
                return np.linalg.solve(t, np.broadcast_to(
                    b, np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:]))
            except np.linalg.LinAlgError:
                return _tri_solve_subst(t, b, upper)
        r = _tri_solve_np(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), not upper, True,
                          unitriangular)
        return np.swapaxes(r, -1, -2)


def _tri_solve_subst(t, b, upper):
    """Substitution (vectorised over the batch and right-hand sides) for singular triangles."""
    shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = np.broadcast_to(t, shape + t.shape[-2:])
    x = np.array(np.broadcast_to(b, shape + b.shape[-2:]), dtype=np.result_type(t, b))
    n = t.shape[-1]
    order = range(n - 1, -1, -1) if upper else range(n)
    done = []
    for i in order:
        acc = x[..., i, :]
        if done:
            acc = acc - (t[..., i, done][..., :, None] * x[..., done, :]).sum(-2)
        x[..., i, :] = acc / t[..., i, i][..., None]
        done.append(i)
    return x


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    a = _check(A, "linalg.solve_triangular")
    a, b = _promote2(A, B, "linalg.solve_triangular")
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    if (left and b.shape[-2] != a.shape[-1]) or (not left and b.shape[-1] != a.shape[-2]):
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
            f"{b.shape[-2]}x{b.shape[-1]})")
    x = _tri_solve_np(a, b, upper, left, unitriangular)
    res = _make(_contig(x, dtype=a.dtype))
    if _rec(A, B):
        n = R.LinalgSolveTriangularBackward0()
        n.upper, n.left, n.unitriangular = upper, left, unitriangular
        xs = x.shape
        n._meta = (None if a.shape[:-2] == xs[:-2] else (a.shape, a.dtype),
                   None if b.shape == xs else (b.shape, b.dtype))
        save(n, A)
        save_result(n, res)
        link(n, res, A, B)
    return _out(res, out)


_ONE_NODES = {}


def _one_node(name, fn, inputs, diff_out=None):
    """fn(*inputs) (a composite of differentiable ops) recorded as ONE node named `name`, as
    PyTorch records the op; its backward re-runs fn and differentiates it
    (derivatives.CompositeBackward). Without recording, or under forward AD, fn itself."""
    if not _rec(*inputs) or _fw_active() or not all(isinstance(x, Tensor) for x in inputs):
        return fn(*inputs)
    from .autograd.grad_mode import no_grad
    with no_grad():
        outs = fn(*inputs)
    tup = outs if isinstance(outs, tuple) else (outs,)
    res = tuple(_make(o._data) for o in tup)
    cls = _ONE_NODES.get(name)
    if cls is None:
        cls = _ONE_NODES[name] = type(name, (R.CompositeBackward,), {})
    n = cls()
    n.fn = fn
    save(n, *inputs)
    linked = tuple(r if r._data.dtype.kind in "fc" and (diff_out is None or i in diff_out)
                   else None for i, r in enumerate(res))
    link_multi(n, linked, *[x if x._rg else None for x in inputs])
    if not isinstance(outs, tuple):
        return res[0]
    return type(outs)(*res) if hasattr(outs, "_fields") else res


_WARNED = set()


def _warn_once(key, msg):
    """PyTorch's TORCH_WARN_ONCE: the first call in the process warns."""
    if key not in _WARNED:
        _WARNED.add(key)
        import os
        import sys
        import warnings
        pkg = os.path.dirname(os.path.abspath(__file__))
        level, f = 1, sys._getframe(0)
        while f is not None and os.path.abspath(f.f_code.co_filename).startswith(pkg):
            f, level = f.f_back, level + 1  # point at the user's line, past dagrad's frames
        warnings.warn(msg, UserWarning, stacklevel=level)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    _warn_once("triangular_solve",
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will "
        "be removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its "
        "arguments reversed and does not return a copy of one of the inputs.\n"
        "X = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
        "X = torch.linalg.solve_triangular(A, B). (Triggered internally at "
        "/__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2273.)")

    def fn(b, A):
        At = A.mT if transpose else A
        up = (not upper) if transpose else upper
        x = solve_triangular(At, b, upper=up, unitriangular=unitriangular)
        return _TriSolveT(x, A.clone())
    return _one_node("TriangularSolveBackward0", fn, (b, A))


def cholesky_solve(B, L, upper=False, *, out=None):
    _check(L, "cholesky_solve", ndim_msg="A")

    def fn(B, L):
        if upper:
            y = solve_triangular(_mH(L), B, upper=False)
            return solve_triangular(L, y, upper=True)
        y = solve_triangular(L, B, upper=False)
        return solve_triangular(_mH(L), y, upper=True)
    return _out(_one_node("CholeskySolveBackward0", fn, (B, L)), out)


def cholesky_inverse(L, upper=False, *, out=None):
    a = _check(L, "cholesky_inverse", ndim_msg="input")
    eye = _make(_contig(_eye_like(a)))

    def fn(L):
        if upper:
            y = solve_triangular(_mH(L), eye, upper=False)
            return solve_triangular(L, y, upper=True)
        y = solve_triangular(L, eye, upper=False)
        return solve_triangular(_mH(L), y, upper=True)
    return _out(_one_node("CholeskyInverseBackward0", fn, (L,)), out)


# ---------------------------------------------------------------- decompositions
def cholesky(A, *, upper=False, out=None):
    a = _check(A, "linalg.cholesky")
    r = _chol_np(a, "linalg.cholesky", True)[0]
    res = _make(_contig(np.swapaxes(r, -1, -2).conj() if upper else r))
    if _rec(A):
        n = R.LinalgCholeskyExBackward0()
        n.upper = upper
        save_result(n, res)
        link(n, res, A)
    return _out(res, out)


def _chol_np(a, fname, check):
    if a.size == 0:
        return np.empty(a.shape, a.dtype), np.zeros(a.shape[:-2], np.int32)
    try:
        return np.linalg.cholesky(a), _gam(a).zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        info = _chol_info(a)
        if check:
            bad = np.nonzero(info)[0]
            k = int(bad[0]) if bad.size else 0
            raise LinAlgError(
                f"{fname}: {_prefix(a, k)}The factorization could not be completed because the "
                f"input is not positive-definite (the leading minor of order "
                f"{int(info[k]) if bad.size else 1} is not positive-definite).") from None
        r = _gam(a).zeros(a.shape, a.dtype)
        ok = info == 0
        ar, rr = a.reshape(-1, *a.shape[-2:]), r.reshape(-1, *a.shape[-2:])
        if ok.any():
            rr[ok] = np.linalg.cholesky(ar[ok])
        return r, _gam(a).asarray(info.reshape(a.shape[:-2]).astype(np.int32))


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    a = _check(A, "linalg.cholesky")
    r, info = _chol_np(a, "linalg.cholesky_ex", check_errors)
    res = _make(_contig(np.swapaxes(r, -1, -2).conj() if upper else r))
    if _rec(A):
        n = R.LinalgCholeskyExBackward0()
        n.upper = upper
        save_result(n, res)
        link(n, res, A)
    return _CholExT(res, _make(_arr(info, np.int32)))


def qr(A, mode="reduced", *, out=None):
    a = _check(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        r = np.linalg.qr(a, mode="r")
        q = np.empty((0,), a.dtype)
    else:
        q, r = np.linalg.qr(a, mode=mode)
    Q, Rr = _make(_contig(q)), _make(_contig(r))
    if _rec(A):
        n = R.LinalgQrBackward0()
        n.mode = mode
        n.m, n.k = a.shape[-2], a.shape[-1]
        save(n, Q, Rr)
        link_multi(n, (Q, Rr), A)
    return _QrT(Q, Rr)


def eigh(A, UPLO="L", *, out=None):
    a = _check(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError("Expected UPLO argument to be 'L' or 'U', but got " + str(UPLO))
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    L, V = _make(_contig(w)), _make(_contig(v))
    if _rec(A):
        n = R.LinalgEighBackward0()
        save(n, L, V)
        link_multi(n, (L, V), A)
    return _EighT(L, V)


def eigvalsh(A, UPLO="L", *, out=None):
    a = _check(A, "linalg.eigh")
    if _rec(A):
        return _out(eigh(A, UPLO)[0], out)
    return _out(_make(_contig(np.linalg.eigvalsh(a, UPLO=UPLO))), out)


def _np_eig(a, values_only=False):
    """np.linalg.eig / eigvals; CuPy has no general eigensolver: a host copy, moved back (as
    PyTorch's CUDA eig, which runs on the CPU too)."""
    if type(a) is np.ndarray:
        return np.linalg.eigvals(a) if values_only else np.linalg.eig(a)
    xp = _gam(a)
    if values_only:
        return xp.asarray(np.linalg.eigvals(a.get()))
    w, v = np.linalg.eig(a.get())
    return xp.asarray(w), xp.asarray(v)


def eig(A, *, out=None):
    """Eigen-decomposition of a general matrix: complex eigenvalues and unit-norm eigenvectors,
    differentiable (LinalgEigBackward0) for distinct eigenvalues."""
    a = _check(A, "linalg.eig")
    c = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    w, v = _np_eig(a)
    L, V = _make(_contig(w.astype(c))), _make(_contig(v.astype(c)))
    if _rec(A):
        n = R.LinalgEigBackward0()
        n.real_input = a.dtype.kind != "c"
        save(n, L, V)
        link_multi(n, (L, V), A)
    if out is not None:
        from .ops.reduce import _check_tuple_out, _o2
        _check_tuple_out("linalg_eig", out)
        _eig_out_check("linalg.eig", "eigenvalues", c, out[0])
        _eig_out_check("linalg.eig", "eigenvectors", c, out[1])
        return _o2(_EigT(L, V), out, "linalg_eig")
    return _EigT(L, V)


def _eig_out_check(fname, what, c, o):
    if isinstance(o, Tensor) and not np.can_cast(c, o._data.dtype, casting="same_kind"):
        from .ops.reduce import _scalar_name
        raise RuntimeError(f"torch.{fname}: Expected {what} to be safely castable from "
                           f"{_scalar_name(np.dtype(c))} dtype, but got {what} with dtype "
                           f"{_scalar_name(o._data.dtype)}")


def eigvals(A, *, out=None):
    a = _check(A, "linalg.eigvals")
    c = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    if out is not None:  # PyTorch writes out= even when A requires grad
        _eig_out_check("linalg.eigvals", "eigenvalues", c, out)
        r = _out(_make(_contig(_np_eig(a, True).astype(c))), out)
        if _rec(A):  # ... and records a node whose backward refuses, as torch's NotImplemented
            from .ops.extra import _node

            def refuse(n, g):
                raise RuntimeError("derivative for aten::linalg_eigvals is not implemented")
            _node("NotImplemented", refuse, (A,), r)
        return r
    if _rec(A):
        return eig(A)[0]
    return _make(_contig(_np_eig(a, True).astype(c)))


def svd(A, full_matrices=True, *, driver=None, out=None):
    a = _check(A, "linalg.svd", square=False)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    U, S, Vh = (_make(_contig(u)), _make(_contig(s)),
                _make(_contig(vh)))
    if _rec(A):
        n = R.LinalgSvdBackward0()
        n.full = full_matrices
        n.m, n.k = a.shape[-2], a.shape[-1]
        save(n, U, S, Vh)
        link_multi(n, (U, S, Vh), A)
    return _SvdT(U, S, Vh)


def svdvals(A, *, driver=None, out=None):
    a = _check(A, "linalg.svd", square=False)
    if _rec(A):
        return _out(svd(A, full_matrices=False)[1], out)
    return _out(_make(_contig(np.linalg.svd(a, compute_uv=False))), out)


def svd_legacy(input, some=True, compute_uv=True, *, out=None):  # noqa: A002
    """torch.svd: (U, S, V) with V (not V^H); reduced unless some=False."""
    if isinstance(input, Tensor) and input._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input._data.ndim} dimensions instead")
    _check(input, "linalg.svd", square=False, ndim_msg="input")
    U, S, Vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return _SvdLegacyT(U.new_zeros(U.shape), S, Vh.new_zeros(Vh.shape))
    return _SvdLegacyT(U, S, _mH(Vh))


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None, rcond=None):
    if isinstance(A, Tensor) and (A._data.ndim < 2 or A._data.dtype.kind not in "fc" or
                                  A._data.dtype == np.float16):
        raise RuntimeError(f"linalg.pinv({_pt(A._data.dtype)}{{{list(A._data.shape)}}}): expected "
                           f"a tensor with 2 or more dimensions of float, double, cfloat or "
                           f"cdouble types")
    a = _check(A, "linalg.pinv", square=False)
    at = _tol_arr(atol)
    rt = _tol_arr(rtol if rtol is not None else rcond)
    if a.size == 0:
        r = np.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
        if rt is None:
            rt_ = (0.0 if at is not None and np.any(at > 0) else
                   np.finfo(s.dtype).eps * builtins.max(a.shape[-2:]))
        else:
            rt_ = rt
        tol = np.maximum(at[..., None] if at is not None and np.ndim(at) else
                         (at if at is not None else 0.0), rt_ * smax)
        keep = s > tol
        with np.errstate(divide="ignore"):
            sinv = np.where(keep, 1.0 / np.where(keep, s, 1), 0).astype(s.dtype)
        r = np.swapaxes(vh, -1, -2).conj() @ (sinv[..., :, None] * np.swapaxes(u, -1, -2).conj())
    res = _make(_contig(r.astype(a.dtype)))
    if _rec(A):
        n = R.LinalgPinvBackward0()
        save(n, A)
        save_result(n, res)
        link(n, res, A)
    return _out(res, out)


def _tol_arr(t):
    if t is None:
        return None
    if isinstance(t, Tensor):
        return t._data
    return float(t)  # (a Python float meets NumPy and CuPy arrays alike)


def lstsq(A, B, rcond=None, *, driver=None):
    a = _check(A, "linalg.lstsq", square=False)
    a, b = _promote2(A, B, "linalg.lstsq")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    if not (0 <= a.ndim - b.ndim <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vec = b.ndim == a.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    if Bm._data.shape[-2] != a.shape[-2]:
        raise RuntimeError(
            "torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    fw = _fw_active()
    rec = _rec(A, B) and not fw
    if rec:
        from .autograd.grad_mode import no_grad
        with no_grad():
            return _lstsq_node(A, B, rcond, driver)
    P = pinv(A, rtol=rcond if rcond is not None else np.finfo(a.dtype).eps * builtins.max(
        a.shape[-2:]))
    X = P @ Bm
    if vec:
        X = X.squeeze(-1)
    m, k = a.shape[-2:]
    s = np.linalg.svd(a, compute_uv=False) if a.size else np.zeros(a.shape[:-2] + (0,))
    tol = (rcond if rcond is not None else np.finfo(a.dtype).eps * builtins.max(m, k))
    rank_np = (s > tol * (s.max(-1, keepdims=True) if s.shape[-1] else 0)).sum(-1)
    drv = driver or "gelsy"
    full_rank = bool(np.all(rank_np == builtins.min(m, k)))
    if m > k and full_rank and drv != "gelsy":
        resid = (A @ (X.unsqueeze(-1) if vec else X) - Bm).abs().pow(2).sum(-2)
        if vec:
            resid = resid.squeeze(-1)
    else:
        resid = _make(np.empty((0,), a.real.dtype))
    rank = _make(_arr(rank_np, np.int64)) if drv != "gels" else \
        _make(np.empty((0,), np.int64))
    sv = _make(_contig(s.astype(a.real.dtype))) if drv in ("gelsd", "gelss") else \
        _make(np.empty((0,), a.real.dtype))
    return _LstsqT(X, resid, rank, sv)


def _lstsq_node(A, B, rcond, driver):
    """lstsq computed without recording, then one LinalgLstsqBackward0 node for solution and
    residuals (rank and singular_values have no gradient), as PyTorch records it."""
    r = lstsq(A, B, rcond, driver=driver)
    X, resid = _make(r.solution._data), _make(r.residuals._data)
    n = R.LinalgLstsqBackward0()
    n.vec = B._data.ndim == A._data.ndim - 1
    n._meta = ((A._data.shape, A._data.dtype), (B._data.shape, B._data.dtype))
    save(n, A, B, X)
    link_multi(n, (X, resid), A if A._rg else None, B if B._rg else None)
    return _LstsqT(X, resid, r.rank, r.singular_values)


def _fw_active():
    """True while a forward-AD dual level is active: composite paths then carry tangents."""
    from .autograd import forward_ad
    return forward_ad._active_level is not None


# ---------------------------------------------------------------- LU
_LuFactorT = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
_LuFactorExT = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_LuT = collections.namedtuple("linalg_lu", ["P", "L", "U"])
_LuUnpackT = collections.namedtuple("lu_unpack", ["P", "L", "U"])


def _lu_np(a):
    """Partial-pivot LU (LAPACK getrf's algorithm), batched: (packed LU, 1-based pivots, info,
    row permutation)."""
    if type(a) is not np.ndarray:  # CuPy: the pivoting loop runs on a host copy
        xp = _gam(a)
        return tuple(xp.asarray(r) if isinstance(r, np.ndarray) else r for r in _lu_np(a.get()))
    M, N = a.shape[-2:]
    k = builtins.min(M, N)
    m = np.array(a.reshape(-1, M, N), dtype=a.dtype, copy=True)
    B = m.shape[0]
    piv = np.zeros((B, k), np.int32)
    perm = np.tile(np.arange(M), (B, 1))
    info = np.zeros(B, np.int32)
    idx = np.arange(B)
    with np.errstate(all="ignore"):
        for j in range(k):
            p = np.argmax(np.abs(m[:, j:, j]), axis=1) + j
            piv[:, j] = p + 1
            rj = m[idx, j].copy()
            m[idx, j] = m[idx, p]
            m[idx, p] = rj
            pj = perm[idx, j].copy()
            perm[idx, j] = perm[idx, p]
            perm[idx, p] = pj
            pv = m[:, j, j]
            zero = pv == 0
            info[(info == 0) & zero] = j + 1
            lcol = np.where(zero[:, None], m[:, j + 1:, j], m[:, j + 1:, j] / np.where(
                zero, 1, pv)[:, None])
            m[:, j + 1:, j] = lcol
            m[:, j + 1:, j + 1:] -= np.where(zero[:, None, None], 0, lcol[:, :, None]
                                             * m[:, j, None, j + 1:])
    bs = a.shape[:-2]
    return (m.reshape(a.shape), piv.reshape(bs + (k,)), info.reshape(bs),
            perm.reshape(bs + (M,)))


def _perm_from_pivots(piv, M):
    if type(piv) is not np.ndarray:  # CuPy: the swaps run on a host copy
        return _gam(piv).asarray(_perm_from_pivots(piv.get(), M))
    bs = piv.shape[:-1]
    pv = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    B = pv.shape[0]
    perm = np.tile(np.arange(M), (B, 1))
    idx = np.arange(B)
    for j in range(pv.shape[1]):
        p = pv[:, j]
        t = perm[idx, j].copy()
        perm[idx, j] = perm[idx, p]
        perm[idx, p] = t
    return perm.reshape(bs + (M,))


def _perm_matrix(perm, dtype):
    """P with A = P L U: row i of P^T A is row perm[i] of A, so P[perm[i], i] = 1."""
    M = perm.shape[-1]
    P = _gam(perm).zeros(perm.shape + (M,), dtype)
    np.put_along_axis(P, perm[..., None], 1, axis=-1)
    return np.swapaxes(P, -1, -2)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._data.shape)} instead")
    a = _check(A, "linalg.lu_factor_ex", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, piv, info, _ = _lu_np(a)
    if check_errors and info.any():
        k = int(np.nonzero(info.reshape(-1))[0][0])
        raise LinAlgError(f"torch.linalg.lu_factor_ex: {_prefix(a, k)}U[{info.reshape(-1)[k]},"
                          f"{info.reshape(-1)[k]}] is zero and using it on lu_solve would result "
                          f"in a division by zero. If you still want to perform the "
                          f"factorization, consider calling linalg.lu(A, pivot) or "
                          f"linalg.lu_factor_ex(A, pivot)")
    LU = _make(lu)
    if _rec(A):
        n = R.LinalgLuFactorExBackward0()
        save(n, A)
        n.perm = _perm_from_pivots(piv, a.shape[-2])
        save_result(n, LU)
        link_multi(n, (LU, None, None), A)
    return _LuFactorExT(LU, _make(piv), _make(info))


def lu_factor(A, *, pivot=True, out=None):
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._data.shape)} instead")
    a = _check(A, "linalg.lu_factor", square=False)
    r = lu_factor_ex(A, pivot=pivot)
    info = r.info._data.reshape(-1)
    if info.any():
        k = int(np.nonzero(info)[0][0])
        raise RuntimeError(f"torch.linalg.lu_factor: {_prefix(a, k)}U[{info[k]},{info[k]}] is zero "
                          f"and using it on lu_solve would result in a division by zero. If you "
                          f"still want to perform the factorization, consider calling "
                          f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return _LuFactorT(r.LU, r.pivots)


def lu(A, *, pivot=True, out=None):
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError(f"linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._data.shape)} instead")
    a = _check(A, "linalg.lu", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_, piv, info, perm = _lu_np(a)
    M, N = a.shape[-2:]
    k = builtins.min(M, N)
    Lm = np.tril(lu_[..., :, :k], -1) + _gam(lu_).eye(M, k, dtype=a.dtype)
    Um = np.triu(lu_[..., :k, :])
    P = _make(_perm_matrix(perm, a.dtype))
    L, U = _make(_contig(Lm)), _make(_contig(Um))
    if _rec(A):
        n = R.LinalgLuBackward0()
        n.m, n.k = M, N
        save(n, P, L, U)
        link_multi(n, (P, L, U), A)
        P._rg, P.grad_fn = False, None
    return _LuT(P, L, U)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    return _one_node("LuUnpackBackward0", lambda d, p: _lu_unpack(d, p, unpack_data,
                                                                  unpack_pivots),
                     (LU_data, LU_pivots), diff_out=(1, 2))


def _lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots):
    a = LU_data._data
    M, N = a.shape[-2:]
    k = builtins.min(M, N)
    P = L = U = None
    if unpack_data:
        eye = _make(_gam(a).eye(M, k, dtype=a.dtype))
        L = LU_data[..., :, :k].tril(-1) + eye
        U = LU_data[..., :k, :].triu()
    else:
        L = _make(np.empty((0,), a.dtype))
        U = _make(np.empty((0,), a.dtype))
    if unpack_pivots:
        P = _make(_perm_matrix(_perm_from_pivots(LU_pivots._data, M), a.dtype))
    else:
        P = _make(np.empty((0,), a.dtype))
    return _LuUnpackT(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    _check(LU, "linalg.lu_solve")
    return _out(_one_node("LinalgLuSolveBackward0",
                          lambda LU, p, B: _lu_solve(LU, p, B, left, adjoint), (LU, pivots, B)),
                out)


def _lu_solve(LU, pivots, B, left, adjoint):
    P, L, U = _lu_unpack(LU, pivots, True, True)
    PT = P.mT
    if left and not adjoint:      # A X = B, A = P L U
        X = solve_triangular(U, solve_triangular(L, PT @ B, upper=False, unitriangular=True),
                             upper=True)
    elif left:                    # A^H X = B
        Y = solve_triangular(_mH(U), B, upper=False)
        X = P @ solve_triangular(_mH(L), Y, upper=True, unitriangular=True)
    elif not adjoint:             # X A = B
        Y = solve_triangular(U, B, upper=True, left=False)
        X = solve_triangular(L, Y, upper=False, left=False, unitriangular=True) @ PT
    else:                         # X A^H = B
        Y = solve_triangular(_mH(L), B @ P, upper=True, left=False, unitriangular=True)
        X = solve_triangular(_mH(U), Y, upper=False, left=False)
    return X


def _lu_backward(P, L, U, gL, gU):
    """Gradient of A = P L U for any shape: the square rule on the leading block, plus the
    trailing block (U2 = L^-1 P^T A2 when wide, L2 = (P^T A)2 U^-1 when tall)."""
    from .ops.movement import cat
    m = L.shape[-2]
    n = U.shape[-1]
    if m == n:
        return _lu_square_backward(P, L, U, gL, gU)
    if m < n:  # wide: L is m x m, U = [U1 | U2]
        U1, U2 = U[..., :, :m], U[..., :, m:]
        gU1 = gU[..., :, :m] if gU is not None else None
        gU2 = gU[..., :, m:] if gU is not None else None
        if gU2 is not None:
            extra = solve_triangular(_mH(L), gU2 @ _mH(U2), upper=True, unitriangular=True)
            gL = -extra if gL is None else gL - extra
            gA2 = P @ solve_triangular(_mH(L), gU2, upper=True, unitriangular=True)
        else:
            gA2 = (P @ L @ U2) * 0
        gA1 = _lu_square_backward(P, L, U1, gL, gU1)
        return cat([gA1, gA2], -1)
    # tall: L = [L1; L2] (m x n), U is n x n
    L1, L2 = L[..., :n, :], L[..., n:, :]
    gL1 = gL[..., :n, :] if gL is not None else None
    gL2 = gL[..., n:, :] if gL is not None else None
    if gL2 is not None:
        extra = _mH(L2) @ solve_triangular(_mH(U), gL2, upper=False, left=False)
        gU = -extra if gU is None else gU - extra
        gB2 = solve_triangular(_mH(U), gL2, upper=False, left=False)
    else:
        gB2 = (L2 @ U) * 0
    eye = _make(_gam(L._data).eye(n, dtype=L._data.dtype))
    gB1 = _lu_square_backward(eye, L1, U, gL1, gU)
    return P @ cat([gB1, gB2], -2)


def _lu_square_backward(P, L, U, gL, gU):
    """PyTorch's linalg_lu_backward for square A = P L U."""
    gA = None
    if gL is not None:
        gA = (_mH(L) @ gL).tril(-1)
    if gU is not None:
        t = (gU @ _mH(U)).triu()
        gA = t if gA is None else gA + t
    gA = solve_triangular(_mH(U), gA, upper=False, left=False)
    gA = solve_triangular(_mH(L), gA, upper=True, left=True, unitriangular=True)
    return P @ gA


# ---------------------------------------------------------------- matrix exponential
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)


def _expm_np(a):
    """Scaling and squaring with the [13/13] Pade approximant (Higham 2005), batched."""
    if type(a) is not np.ndarray and hasattr(a, "get"):  # CuPy: on a host copy
        return _gam(a).asarray(_expm_np(a.get()))
    a = np.asarray(a)
    n = a.shape[-1]
    if a.size == 0:
        return a.copy()
    nrm = np.abs(a).sum(-2).max(-1)
    s = np.maximum(0, np.ceil(np.log2(np.maximum(nrm, 1e-300) / 5.371920351148152))).astype(int)
    s = np.where(nrm == 0, 0, s)
    A = a / (2.0 ** s)[..., None, None]
    I = np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape)  # noqa: E741
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    b = _PADE13
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2
             + b[1] * I)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * I
    R_ = np.linalg.solve(V - U, V + U)
    smax = int(s.max()) if s.size else 0
    for i in range(smax):
        sq = R_ @ R_
        R_ = np.where((s > i)[..., None, None], sq, R_)
    return R_.astype(a.dtype)


def matrix_exp(A):
    if isinstance(A, Tensor) and A._data.dtype == np.float16:  # PyTorch computes Half too
        from .ops.convert import cast
        return cast(matrix_exp(cast(A, D.float32)), D.float16)
    a = _check(A, "linalg.matrix_exp")
    res = _make(_contig(_expm_np(a)))
    if _rec(A):
        n = R.LinalgMatrixExpBackward0()
        save(n, A)
        link(n, res, A)
    return res


def _matrix_exp_frechet(A, E):
    """D exp(A)[E] = top-right block of exp([[A, E], [0, A]]) (differentiable)."""
    from .ops.movement import cat
    z = E * 0
    top = cat([A, E], -1)
    bot = cat([z, A], -1)
    n = A._data.shape[-1]
    big = matrix_exp(cat([top, bot], -2))
    return big[..., :n, n:]


# ---------------------------------------------------------------- products and norms
def matmul(A, B, *, out=None):
    from .ops.linalg import matmul as _mm
    return _mm(A, B, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    return _out((x.conj() * y).sum(dim), out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    from .ops.linalg import diagonal as _diag
    return _diag(A, offset, dim1, dim2)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}")
    return _out(_vector_norm(x, ord, dim, keepdim, dtype=dtype), out)


def _move_last2(A, dim):
    nd = A._data.ndim
    d0, d1 = wrap_dim(dim[0], nd), wrap_dim(dim[1], nd)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    return A.movedim((d0, d1), (-2, -1)), d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):  # noqa: A002
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    kd = A._data.dtype if dtype is None else np.dtype(D.to_dtype(dtype).np)
    if kd.kind not in "fc":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_pt(kd)}")
    if dtype is not None:
        A = A.to(dtype)
    dim = tuple(dim)
    nd = A._data.ndim
    d0, d1 = wrap_dim(dim[0], nd), wrap_dim(dim[1], nd)
    if ord == "fro":
        return _out(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord == "nuc" or ord in (2, -2):
        if A._data.dtype == np.float16:
            raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got Half")
        M, _, _ = _move_last2(A, dim)
        s = svdvals(M)
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return _out(r, out)
    if ord in (1, -1, math.inf, -math.inf):
        # PyTorch: amax/amin over the other dim of the 1-norms (LinalgVectorNorm, Amax/Amin)
        sum_d, red_d = (d0, d1) if ord in (1, -1) else (d1, d0)
        if not keepdim and sum_d < red_d:
            red_d -= 1
        s = vector_norm(A, 1, sum_d, keepdim)
        r = s.amax(red_d, keepdim) if ord > 0 else s.amin(red_d, keepdim)
        return _out(r, out)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    nd = A._data.ndim
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    if dim is not None and isinstance(dim, tuple) and len(dim) == 1:
        dim = dim[0]
    if isinstance(ord, str) or (isinstance(dim, tuple) and len(dim) == 2) or (
            dim is None and ord is not None and nd == 2):
        if dim is None:
            if nd != 2:
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                                   f"must be 1D or 2D. Got {nd}D.")
            dim = (-2, -1)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if dim is None and ord is not None and nd != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {nd}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def cond(A, p=None, *, out=None):
    """torch.linalg.cond as PyTorch computes it: sigma_max / sigma_min from svdvals for p in
    (None, 2, -2); otherwise ||A|| * ||A^-1|| with inv_ex (singular -> inf)."""
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p is None or p in (2, -2):
        s = svdvals(A)
        if s._data.shape[-1] == 0:
            return _out(_make(np.zeros(s._data.shape[:-1], s._data.dtype)), out)
        smax, smin = s.narrow(-1, 0, 1), s.narrow(-1, s._data.shape[-1] - 1, 1)
        r = smin / smax if p == -2 else smax / smin
        return _out(r.squeeze(-1), out)
    pname = p if isinstance(p, str) else ("inf" if p == math.inf else "-inf" if p == -math.inf
                                          else str(int(p)))
    a = _check(A, f"linalg.cond(ord={pname})")
    if a.size == 0:
        return _out(_make(np.zeros(a.shape[:-2], a.real.dtype)), out)
    if p == "nuc":
        s = svdvals(A)
        return _out(s.sum(-1) * s.reciprocal().sum(-1), out)
    Ai, info = inv_ex(A)
    Ai = Ai.masked_fill(_make((info._data > 0)[..., None, None]), math.inf)
    r = matrix_norm(A, p) * matrix_norm(Ai, p)
    return _out(r.nan_to_num(math.inf, math.inf, -math.inf), out)


def matrix_power(A, n, *, out=None):
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {a.shape[-2] if a.ndim > 1 else 1} by {a.shape[-1] if a.ndim else 1}"
                           f" matrices")
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:  # PyTorch: A.clone().copy_(I) (CloneBackward0, CopyBackwards: zero gradient)
        eye = _make(_contig(_eye_like(a)))
        if _fw_active():
            return _out(A * 0 + eye, out)  # a zero tangent, as PyTorch's
        if not _rec(A):
            return _out(eye, out)
        r = A.clone()
        r.copy_(eye)
        return _out(r, out)
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(result, out)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None, tol=None):
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    if isinstance(A, Tensor) and (A._data.dtype.kind not in "fc" or A._data.dtype == np.float16):
        raise RuntimeError("This function doesn't handle types other than float and double")
    a = _check(A, "linalg.matrix_rank", square=False)
    if a.size == 0:
        return _make(np.zeros(a.shape[:-2], np.int64))
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    smax = s.max(-1)
    at = _tol_arr(atol if atol is not None else tol)
    rt = _tol_arr(rtol)
    if rt is None:
        rt = 0.0 if at is not None and np.any(at > 0) else \
            np.finfo(s.dtype).eps * builtins.max(a.shape[-2:])
    thr = np.maximum(at if at is not None else 0.0, rt * smax)
    return _out(_make(_arr((s > _arr(thr)[..., None]).sum(-1), np.int64)), out)


def cross(input, other, *, dim=-1, out=None):  # noqa: A002
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape} and {b.shape}") from None
    d = wrap_dim(dim, len(shape))
    if (a.shape[d - len(shape) + a.ndim] if a.ndim else 0) != 3 or \
            (b.shape[d - len(shape) + b.ndim] if b.ndim else 0) != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[dim] if a.ndim else 0} and "
                           f"{b.shape[dim] if b.ndim else 0}")
    xa, xb = a, b
    if xa.dtype != xb.dtype:
        from .ops._core import promote_arrays
        xa, xb = promote_arrays(input, other)
    r = np.cross(xa, xb, axisa=d - len(shape), axisb=d - len(shape), axisc=d - len(shape))
    res = _make(_contig(np.broadcast_to(r, shape)))
    if _rec(input, other):
        n = R.LinalgCrossBackward0()
        n.dim = d - len(shape)
        n._meta = (None if a.shape == shape and a.dtype == res._data.dtype else
                   (a.shape, a.dtype),
                   None if b.shape == shape and b.dtype == res._data.dtype else
                   (b.shape, b.dtype))
        save(n, input, other)
        link(n, res, input, other)
    return _out(res, out)


def cross_top(input, other, dim=None, *, out=None):  # noqa: A002
    """torch.cross: dim defaults to the first dimension of size 3 (with PyTorch's warning)."""
    if dim is None:
        import warnings
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
            "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
            "change to agree with that of linalg.cross in a future release.", UserWarning,
            stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return cross(input, other, dim=dim, out=out)


def multi_dot(tensors, *, out=None):
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec = ts[0]._data.ndim == 1
    last_vec = ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t._data.ndim != 2:
            raise RuntimeError(
                f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D" if 0 < i < len(ts)
                - 1 else f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must be 1D or "
                f"2D but got {t._data.ndim}D")
    # optimal parenthesisation by dynamic programming (NumPy's / PyTorch's order)
    dims = [t._data.shape[0] for t in ts] + [ts[-1]._data.shape[1]]
    n = len(ts)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for ln in range(1, n):
        for i in range(n - ln):
            j = i + ln
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def chain(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return chain(i, k) @ chain(k + 1, j)
    r = chain(0, n - 1)
    # PyTorch ends with one view to the output shape (ViewBackward0), squeezing vector ends
    shape = tuple(sz for i, sz in enumerate(r._data.shape)
                  if not ((i == 0 and first_vec) or (i == 1 and last_vec)))
    return _out(r.view(shape), out)


def vander(x, *, N=None):
    if x._data.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x._data.shape[-1] if N is None else N
    if n < 1:
        raise RuntimeError("N must be greater than 1.")
    from .ops.movement import cat
    from .ops.reduce import cumprod
    if x._data.dtype == np.bool_:
        x = x.long()
    ones = _make(_gam(x._data).ones(x._data.shape + (1,), dtype=x._data.dtype))
    if n == 1:
        return ones
    rest = cumprod(x.unsqueeze(-1).expand(*x._data.shape, n - 1), -1)
    return cat([ones, rest], -1)


def vander_top(x, N=None, increasing=False):
    """torch.vander: decreasing powers unless increasing=True."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is not None and N < 0:
        raise RuntimeError("N must be non-negative.")
    if N == 0:
        return _make(np.empty((x._data.shape[0], 0), x._data.dtype))
    r = vander(x, N=N)
    return r if increasing else r.flip(-1)


def tensorinv(A, ind=2, *, out=None):
    a = A._data
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    outs, ins = a.shape[:ind], a.shape[ind:]
    p, q = int(np.prod(outs)), int(np.prod(ins))
    if p != q:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {q} != {p}")
    r = inv(A.reshape(p, q))
    return _out(r.reshape(*ins, *outs), out)


def tensorsolve(A, B, dims=None, *, out=None):
    if dims is not None:
        nd = A._data.ndim
        ds = [wrap_dim(d, nd) for d in dims]
        A = A.movedim(ds, list(range(nd - len(ds), nd)))
    bs = B._data.shape
    rest = A._data.shape[B._data.ndim:]
    p = int(np.prod(bs))
    q = int(np.prod(rest))
    x = solve(A.reshape(p, q), B.reshape(p))
    return _out(x.reshape(*rest), out)


def householder_product(A, tau, *, out=None):
    """Q = H_1 ... H_k (first n columns), H_i = I - tau_i v_i v_i^H, v_i read below A's diagonal
    (LAPACK's orgqr): a composition of differentiable ops, recorded as one node."""
    return _out(_one_node("LinalgHouseholderProductBackward0", _householder, (A, tau)), out)


def _householder(A, tau):
    a = _check(A, "linalg.householder_product", square=False, ndim_msg="input")
    m, n = a.shape[-2:]
    k = tau._data.shape[-1]
    if n > m:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    eye = _make(_gam(a).eye(m, dtype=a.dtype))
    rows = _gam(a).arange(m)
    Q = None
    for i in range(k):
        below = _make((rows > i).astype(a.dtype))
        e = _make((rows == i).astype(a.dtype))
        v = A[..., :, i] * below + e
        H = eye - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (v.unsqueeze(-1) *
                                                              v.conj().unsqueeze(-2))
        Q = H if Q is None else Q @ H
    if Q is None:
        Q = eye.expand(*a.shape[:-2], m, m) if a.ndim > 2 else eye
    return Q[..., :, :n]


orgqr = householder_product


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    for t, nm in ((a, "X1"), (b, "X2")):
        if t.dtype.kind == "V":
            raise NotImplementedError("\"cdist\" not implemented for 'BFloat16'")
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {nm} got: "
                               f"{_pt(t.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _broadcast_batch(a.shape[:-2], b.shape[:-2])
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_pt(a.dtype)} but found {_pt(b.dtype)}")
    for t in (a, b):
        if t.dtype == np.float16:
            raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    r1, r2 = a.shape[-2], b.shape[-2]
    mm = p == 2 and (compute_mode == modes[1] or (compute_mode == modes[0] and
                                                  (r1 > 25 or r2 > 25)))
    if _fw_active():  # composite: its ops carry forward-AD tangents
        if mm:
            n1 = (x1 * x1).sum(-1, keepdim=True)
            n2 = (x2 * x2).sum(-1, keepdim=True)
            d2 = n1 - (x1 @ x2.mT) * 2 + n2.mT
            return d2.clamp_min(1e-30).sqrt()
        return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)
    if mm:
        return _cdist_mm(x1, x2)
    # one CdistBackward0 node, as PyTorch's _cdist_forward
    r = _pnorm_last(a[..., :, None, :] - b[..., None, :, :], p)
    res = _make(_contig(r, dtype=np.result_type(a.dtype, b.dtype)))
    if _rec(x1, x2):
        n = R.CdistBackward0()
        n.p = float(p)
        n._meta = ((a.shape, a.dtype), (b.shape, b.dtype))
        save(n, x1, x2)
        save_result(n, res)
        link(n, res, x1 if x1._rg else None, x2 if x2._rg else None)
    return res


def _broadcast_batch(sa, sb):
    """Broadcast two batch shapes, with PyTorch's size-mismatch message."""
    try:
        return tuple(np.broadcast_shapes(sa, sb))
    except ValueError:
        from .ops.elementwise import _shape_err
        z = np.empty(())
        raise _shape_err("cdist", np.broadcast_to(z, sa), np.broadcast_to(z, sb)) from None


def _pnorm_last(diff, p):
    """||diff||_p over the last axis (NumPy), PyTorch's conventions for p = 0 and inf."""
    ad = np.abs(diff)
    if p == 0:
        return (ad != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return ad.sum(-1)
    if p == 2:
        return np.sqrt((ad * ad).sum(-1))
    if p == math.inf:
        return ad.max(-1) if ad.shape[-1] else np.zeros(ad.shape[:-1], ad.dtype)
    return (ad ** p).sum(-1) ** (1.0 / p)


def pdist(input, p=2):  # noqa: A002
    """torch.pdist / F.pdist: p-norm distances of the row pairs i < j (one PdistBackward0)."""
    a = input._data
    if a.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {a.ndim}D")
    if a.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if _fw_active():
        i, j = np.triu_indices(a.shape[0], 1)
        return vector_norm(input[_make(i)] - input[_make(j)], p, -1)
    i, j = np.triu_indices(a.shape[0], 1)
    res = _make(_contig(_pnorm_last(a[i] - a[j], p), dtype=a.dtype))
    if _rec(input):
        n = R.PdistBackward0()
        n.p = float(p)
        n.pairs = (_make(i.astype(np.int64)), _make(j.astype(np.int64)))
        n._meta = ((a.shape, a.dtype),)
        save(n, input)
        save_result(n, res)
        link(n, res, input)
    return res


def _cdist_mm(x1, x2):
    """PyTorch's matrix-product Euclidean path: batch dims expanded and flattened (ExpandBackward0,
    CloneBackward0 where broadcast, ViewBackward0), one EuclideanDistBackward0, a final view."""
    a, b = x1._data, x2._data
    r1, r2, c = a.shape[-2], b.shape[-2], a.shape[-1]
    if a.ndim == 2 and b.ndim == 2:
        out = _euclidean_dist(x1, x2)
        return out.view(r1, r2)
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    nb = int(np.prod(batch)) if batch else 1

    def flat(x, r):
        e = x.expand(*batch, r, c)
        if tuple(x._data.shape) != batch + (r, c):
            e = e.contiguous()  # CloneBackward0, as PyTorch's reshape of the expanded view
        return e.view(nb, r, c)
    out = _euclidean_dist(flat(x1, r1), flat(x2, r2))
    return out.view(*batch, r1, r2)


def _euclidean_dist(x1, x2):
    """torch._euclidean_dist: sqrt(clamp_min(|x|^2 - 2 x.y + |y|^2, 1e-30))."""
    a, b = x1._data, x2._data
    n1 = (a * a).sum(-1, keepdims=True)
    n2 = (b * b).sum(-1, keepdims=True)
    # PyTorch's layout: [-2 x, |x|^2, 1] @ [y, 1, |y|^2]^T, one product (same rounding)
    xa = np.concatenate([-2 * a, n1, np.ones_like(n1)], -1)
    ya = np.concatenate([b, np.ones_like(n2), n2], -1)
    d2 = xa @ np.swapaxes(ya, -1, -2)
    res = _make(np.sqrt(np.maximum(d2, 1e-30)).astype(np.result_type(a.dtype, b.dtype),
                                                       copy=False))
    if _rec(x1, x2):
        n = R.EuclideanDistBackward0()
        n._meta = ((a.shape, a.dtype), (b.shape, b.dtype))
        save(n, x1, x2)
        save_result(n, res)
        link(n, res, x1 if x1._rg else None, x2 if x2._rg else None)
    return res


# ---------------------------------------------------------------- out=
def _out(res, out):
    if out is None:
        return res
    from .ops.elementwise import _out as _eo
    return _eo(res, out)


# ---------------------------------------------------------------- torch.* aliases, Tensor methods
def _legacy_cholesky(A, upper=False, *, out=None):
    """torch.cholesky (deprecated): linalg.cholesky recorded as CholeskyBackward0."""
    _warn_once("cholesky",
               "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
               "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced "
               "with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\n"
               "should be replaced with\nU = torch.linalg.cholesky(A).mH\nThis transform will "
               "produce equivalent results for all valid (symmetric positive definite) inputs. "
               "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
               "BatchLinearAlgebra.cpp:1765.)")
    r = cholesky(A, upper=upper)
    if type(r.grad_fn) is R.LinalgCholeskyExBackward0:
        r.grad_fn.__class__ = R.CholeskyBackward0
    return _out(r, out)


def _legacy_qr(A, some=True, *, out=None):
    _warn_once("qr",
               "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
               "future PyTorch release.\nThe boolean parameter 'some' has been replaced with a "
               "string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
               "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete') (Triggered "
               "internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
               "BatchLinearAlgebra.cpp:2505.)")
    return _QrT(*qr(A, "reduced" if some else "complete"))


def _pinverse(A, rcond=1e-15):
    return pinv(A, rtol=rcond)


def _chain_matmul(*ms, out=None):
    _warn_once("chain_matmul",
               "torch.chain_matmul is deprecated and will be removed in a future PyTorch "
               "release. Use torch.linalg.multi_dot instead, which accepts a list of two or more "
               "tensors rather than multiple parameters. (Triggered internally at "
               "/__w/pytorch/pytorch/aten/src/ATen/native/LinearAlgebra.cpp:1102.)")
    if len(ms) == 1:
        return ms[0]
    return multi_dot(ms, out=out)


def _legacy_lu_solve(b, LU_data, LU_pivots, *, out=None):
    return lu_solve(LU_data, LU_pivots, b, out=out)


def _det_top(A):
    return det(A)


def _top_level():
    """The names torch.* takes from here (torch.inverse, torch.det, torch.svd...)."""
    return {"inverse": inverse, "det": _det_top, "logdet": logdet, "slogdet": slogdet,
            "svd": svd_legacy, "cross": cross_top, "cholesky_solve": cholesky_solve,
            "cholesky_inverse": cholesky_inverse, "triangular_solve": triangular_solve,
            "cdist": cdist, "vander": vander_top, "pinverse": _pinverse,
            "matrix_power": matrix_power, "cholesky": _legacy_cholesky, "qr": _legacy_qr,
            "chain_matmul": _chain_matmul, "matrix_exp": matrix_exp, "lu_unpack": lu_unpack,
            "lu_solve": _legacy_lu_solve, "orgqr": householder_product}


def _bind_methods():
    m = {"inverse": inverse, "det": _det_top, "logdet": logdet, "slogdet": slogdet,
         "svd": svd_legacy, "cross": cross_top, "cholesky_solve": cholesky_solve,
         "cholesky_inverse": cholesky_inverse, "triangular_solve": triangular_solve,
         "pinverse": _pinverse, "matrix_power": matrix_power, "cholesky": _legacy_cholesky,
         "qr": _legacy_qr, "matrix_exp": matrix_exp, "lu_solve": _legacy_lu_solve}
    for k, f in m.items():
        if k not in Tensor.__dict__:
            setattr(Tensor, k, f)


_bind_methods()


# ---------------------------------------------------------------- forward-mode AD (JVP) rules
# Used by dagrad.autograd.forward_ad while a dual level is active: rule(args, kwargs, out)
# returns the output's tangent (or sets several outputs' tangents itself and returns None).
def _fa():
    from .autograd import forward_ad
    return forward_ad


def _first_out(out):
    return out[0] if isinstance(out, tuple) else out


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _jvp_inv(args, kwargs, out):
    X = _first_out(out)
    dA = _fa()._t_or_zero(_arg(args, kwargs, 0, "A"))
    return -(X @ dA @ X)


def _trace_solve(A, dA):
    return solve(A, dA).diagonal(0, -2, -1).sum(-1)


def _jvp_det(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    return out * _trace_solve(A, _fa()._t_or_zero(A))


def _jvp_slogdet(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    t = _trace_solve(A, _fa()._t_or_zero(A))
    _fa()._set_tangent(out[1], t)
    return None


def _jvp_logdet(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    return _trace_solve(A, _fa()._t_or_zero(A))


def _jvp_solve(args, kwargs, out):
    A, B = _arg(args, kwargs, 0, "A"), _arg(args, kwargs, 1, "B")
    left = kwargs.get("left", True)
    F = _fa()
    dA, dB = F._t_or_zero(A), F._t_or_zero(B)
    X = out
    vec = _vector_case(A._data, B._data)
    if vec:
        X, dB = X.unsqueeze(-1), dB.unsqueeze(-1)
    r = solve(A, dB - dA @ X) if left else solve(A, dB - X @ dA, left=False)
    return r.squeeze(-1) if vec else r


def _tri_mask(dA, upper, unit):
    return dA.triu(1 if unit else 0) if upper else dA.tril(-1 if unit else 0)


def _jvp_solve_triangular(args, kwargs, out):
    A, B = _arg(args, kwargs, 0, "A"), _arg(args, kwargs, 1, "B")
    upper = kwargs["upper"]
    left = kwargs.get("left", True)
    unit = kwargs.get("unitriangular", False)
    F = _fa()
    dA = _tri_mask(F._t_or_zero(A), upper, unit)
    dB = F._t_or_zero(B)
    rhs = dB - dA @ out if left else dB - out @ dA
    return solve_triangular(A, rhs, upper=upper, left=left, unitriangular=unit)


def _phi(Z):
    return Z.tril(-1) + Z.diagonal(0, -2, -1).diag_embed() * 0.5


def _jvp_cholesky(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    upper = kwargs.get("upper", False)
    o = _first_out(out)
    L = _mH(o) if upper else o
    dA = _fa()._t_or_zero(A)
    Y = solve_triangular(L, dA, upper=False)
    Z = solve_triangular(_mH(L), Y, upper=True, left=False)
    dL = L @ _phi(Z)
    return _mH(dL) if upper else dL


def _jvp_eigh(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    dA = _fa()._t_or_zero(A)
    L, V = out
    M = _mH(V) @ dA @ V
    dL = M.diagonal(0, -2, -1)
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    eye = _make(_gam(L._data).eye(L._data.shape[-1], dtype=L._data.dtype))
    Finv = (E + eye).reciprocal() * (1 - eye)
    dV = V @ (Finv * M)
    F = _fa()
    F._set_tangent(L, dL.real if dL.is_complex() else dL)
    F._set_tangent(V, dV)
    return None


def _eig_tangents(A, L, V):
    """PyTorch's linalg_eig_jvp: dP = V^-1 dA V, dL = diag(dP),
    dV = dX - V Re(diag(V^H dX)) with dX = V (offdiag(dP) / (L_j - L_i))."""
    dA = _fa()._t_or_zero(A)
    if not dA.is_complex():
        dA = dA.to(V.dtype)
    dP = solve(V, dA @ V)
    dL = dP.diagonal(0, -2, -1)
    n = L._data.shape[-1]
    eye = _make(_gam(L._data).eye(n, dtype=L._data.dtype))
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye
    dX = V @ (dP / E * (1 - eye))
    dV = dX - V * (_mH(V) @ dX).diagonal(0, -2, -1).real.unsqueeze(-2)
    return dL, dV


def _jvp_eig(args, kwargs, out):
    L, V = out
    dL, dV = _eig_tangents(_arg(args, kwargs, 0, "A"), L, V)
    F = _fa()
    F._set_tangent(L, dL)
    F._set_tangent(V, dV)
    return None


def _jvp_eigvals(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    L, V = eig(A)
    return _eig_tangents(A, L, V)[0]


def _jvp_eigvalsh(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    _, V = eigh(A, kwargs.get("UPLO", "L"))
    return (_mH(V) @ _fa()._t_or_zero(A) @ V).diagonal(0, -2, -1)


def _jvp_svdvals(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    U, _, Vh = svd(A, full_matrices=False)
    return (_mH(U) @ _fa()._t_or_zero(A) @ _mH(Vh)).diagonal(0, -2, -1)


def _jvp_pinv(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    dA = _fa()._t_or_zero(A)
    P = out
    m, n = A._data.shape[-2:]
    Im = _make(_gam(A._data).eye(m, dtype=A._data.dtype))
    In = _make(_gam(A._data).eye(n, dtype=A._data.dtype))
    dAh, Ph = _mH(dA), _mH(P)
    return -(P @ dA @ P) + (In - P @ A) @ dAh @ Ph @ P + P @ Ph @ dAh @ (Im - A @ P)


def _jvp_cross(args, kwargs, out):
    a, b = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "other")
    d = kwargs.get("dim", -1)
    F = _fa()
    return cross(F._t_or_zero(a), b, dim=d) + cross(a, F._t_or_zero(b), dim=d)


def _jvp_vector_norm(args, kwargs, out):
    x = _arg(args, kwargs, 0, "x")
    p = _arg(args, kwargs, 1, "ord", 2)
    dim = _arg(args, kwargs, 2, "dim", None)
    keep = _arg(args, kwargs, 3, "keepdim", False)
    dx = _fa()._t_or_zero(x)
    nd = x._data.ndim
    dims = tuple(range(nd)) if dim is None else tuple(
        wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim))
    r = out
    if not keep:
        for d in sorted(dims):
            r = r.unsqueeze(d)
    if p == 0:
        return out * 0
    if p == math.inf or p == -math.inf:
        ax = x.abs()
        mask = (ax == r).to(x.dtype)
        v = (x.sgn() * dx * mask).sum(dims, keepdim=True) / mask.sum(dims, keepdim=True)
    elif p == 1:
        v = (x.sgn() * dx).sum(dims, keepdim=True)
    elif p == 2:
        v = (x * dx).sum(dims, keepdim=True) / r.masked_fill(r == 0, 1)
    else:
        v = (x.sgn() * x.abs() ** (p - 1) * dx).sum(dims, keepdim=True) / \
            (r ** (p - 1)).masked_fill(r == 0, 1)
    if not keep:
        for d in sorted(dims, reverse=True):
            v = v.squeeze(d)
    return v


def _jvp_svd(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    full = _arg(args, kwargs, 1, "full_matrices", True)
    m, n = A._data.shape[-2:]
    if full and m != n:
        raise NotImplementedError("dagrad: the forward derivative of linalg.svd with "
                                  "full_matrices=True needs a square input; pass "
                                  "full_matrices=False")
    U, S, Vh = out
    dA = _fa()._t_or_zero(A)
    k = S._data.shape[-1]
    V = _mH(Vh)
    dP = _mH(U) @ dA @ V
    dS = dP.diagonal(0, -2, -1)
    eye = _make(_gam(S._data).eye(k, dtype=S._data.dtype))
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye
    off = 1 - eye
    symU = dP * S.unsqueeze(-2) + _mH(dP) * S.unsqueeze(-1)
    dU = U @ (symU / E * off)
    if m > k:
        dAVSinv = dA @ (V / S.unsqueeze(-2))
        dU = dU + dAVSinv - U @ (_mH(U) @ dAVSinv)
    symV = S.unsqueeze(-1) * dP + _mH(dP) * S.unsqueeze(-2)
    dVh = -(symV / E * off) @ Vh
    if n > k:
        SinvUhdA = (_mH(U) / S.unsqueeze(-1)) @ dA
        dVh = dVh + SinvUhdA - (SinvUhdA @ V) @ Vh
    F = _fa()
    F._set_tangent(U, dU)
    F._set_tangent(S, dS.real if dS.is_complex() else dS)
    F._set_tangent(Vh, dVh)
    return None


def _jvp_qr(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    mode = _arg(args, kwargs, 1, "mode", "reduced")
    m, n = A._data.shape[-2:]
    if mode == "r" or m < n or (mode == "complete" and m > n):
        raise NotImplementedError("dagrad: the forward derivative of linalg.qr is implemented "
                                  "for mode='reduced' with nrows >= ncols")
    Q, Rr = out
    dA = _fa()._t_or_zero(A)
    dAR = solve_triangular(Rr, dA, upper=True, left=False)
    C = _mH(Q) @ dAR
    low = C.tril(-1)
    Om = low - _mH(low)
    dR = (C - Om) @ Rr
    dQ = dAR - Q @ C + Q @ Om
    F = _fa()
    F._set_tangent(Q, dQ)
    F._set_tangent(Rr, dR)
    return None


def _jvp_matrix_exp(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    return _matrix_exp_frechet(A, _fa()._t_or_zero(A))


def _lu_tangents(A, P, L, U):
    m, n = A._data.shape[-2:]
    if m != n:
        raise NotImplementedError("dagrad: the forward derivative of the LU decomposition is "
                                  "implemented for square matrices")
    dA = P.mT @ _fa()._t_or_zero(A)
    X = solve_triangular(L, dA, upper=False, unitriangular=True)
    X = solve_triangular(U, X, upper=True, left=False)
    return L @ X.tril(-1), X.triu() @ U


def _jvp_lu(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    P, L, U = out
    dL, dU = _lu_tangents(A, P, L, U)
    F = _fa()
    F._set_tangent(L, dL)
    F._set_tangent(U, dU)
    return None


def _jvp_lu_factor(args, kwargs, out):
    A = _arg(args, kwargs, 0, "A")
    LU, piv = out[0], out[1]
    P, L, U = lu_unpack(LU, piv)
    dL, dU = _lu_tangents(A, P, L, U)
    return dL.tril(-1) + dU


def _forward_ad_rules():
    """(module, {name: rule}) pairs for dagrad.autograd.forward_ad to install."""
    import sys
    top = sys.modules["dagrad"]
    la = {"inv": _jvp_inv, "inv_ex": _jvp_inv, "inverse": _jvp_inv, "det": _jvp_det,
          "slogdet": _jvp_slogdet, "logdet": _jvp_logdet, "solve": _jvp_solve,
          "solve_triangular": _jvp_solve_triangular, "cholesky": _jvp_cholesky,
          "cholesky_ex": _jvp_cholesky, "eigh": _jvp_eigh, "eigvalsh": _jvp_eigvalsh,
          "eig": _jvp_eig, "eigvals": _jvp_eigvals,
          "svdvals": _jvp_svdvals, "pinv": _jvp_pinv, "cross": _jvp_cross,
          "vector_norm": _jvp_vector_norm, "svd": _jvp_svd, "qr": _jvp_qr,
          "matrix_exp": _jvp_matrix_exp, "lu": _jvp_lu, "lu_factor": _jvp_lu_factor,
          "lu_factor_ex": _jvp_lu_factor}
    t = {"inverse": _jvp_inv, "det": _jvp_det, "logdet": _jvp_logdet, "slogdet": _jvp_slogdet,
         "matrix_exp": _jvp_matrix_exp}
    return [(sys.modules[__name__], la), (top, t)]
