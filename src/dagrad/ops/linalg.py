"""Matrix products: matmul/@, mm, bmm, mv, dot, outer, einsum, tensordot, addmm, diagonal."""
import builtins

from ..backend import contiguous as _contig
from ..backend import get_array_module as _gam
from . import derivatives as R
from ._core import D, Tensor, _make, arr, grad_state, link, np, save, wrap_dim
from .elementwise import _out


def _mm_bf16(xa, xb, bias=None):
    """bfloat16 product as PyTorch's CPU kernel: float32 accumulation, one rounding."""
    f = np.float32
    r = xa.astype(f) @ xb.astype(f)
    if bias is not None:
        r += bias.astype(f)
    return r.astype(xa.dtype)


def _check_float_like(xa, xb, op):
    if xa.dtype != xb.dtype:
        from ..tensor import _CPP_NAME, _SCALAR_NAME
        na, nb = D.from_np(xa.dtype).name, D.from_np(xb.dtype).name
        if op == "dot":
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{_SCALAR_NAME[na]} and {_SCALAR_NAME[nb]}")
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAME[na]} != "
            f"{_CPP_NAME[nb]}")
    if xa.dtype == np.bool_ and (op == "dot" or xa.size and xb.size):  # empty mm: no kernel
        raise NotImplementedError(f'"{op}" not implemented for \'Bool\'')


# PyTorch computes vector @ matrix as unsqueeze(0).mm().squeeze_(0): grad_fn SqueezeBackward4
_VecMatBackward = type("SqueezeBackward4", (R.MatmulBackward,), {})


def matmul(a, b, *, out=None):
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}")
    xa, xb = a._data, b._data
    _check_float_like(xa, xb, "dot" if xa.ndim == 1 and xb.ndim == 1 else "addmm_impl_cpu_")
    na, nb = xa.ndim, xb.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    ka = xa.shape[-1]
    kb = xb.shape[0] if nb == 1 else xb.shape[-2]
    if ka != kb:
        if na == 1 and nb == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{xa.shape[0]}] and src "
                f"[{xb.shape[0]}] to have the same number of elements, but got {xa.shape[0]} and "
                f"{xb.shape[0]} elements respectively")
        if na == 2 and nb == 1:
            raise RuntimeError(
                f"size mismatch, got input ({xa.shape[0]}), mat ({xa.shape[0]}x{xa.shape[1]}), "
                f"vec ({xb.shape[0]})")
        ra = xa.shape[0] if na == 1 else builtins.int(np.prod(xa.shape[:-1]))
        if na == 1:
            sa = f"1x{xa.shape[0]}"
        else:
            sa = f"{ra}x{ka}"
        sb = f"{kb}x{xb.shape[-1]}" if nb > 1 else f"{kb}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    try:
        r = xa @ xb if xa.dtype.kind != "V" else _mm_bf16(xa, xb)
    except TypeError:  # NumPy meets CuPy: PyTorch's device error
        from ._core import same_device
        same_device(xa, xb)
        raise
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of {list(xa.shape)} and {list(xb.shape)} do not "
            f"broadcast") from None
    res = _make(arr(r) if isinstance(r, np.generic) else r)
    if grad_state.enabled and (a._rg or b._rg):
        if na == 2 and nb == 2:
            n = R.MmBackward0()
        elif na == 1 and nb == 1:
            n = R.DotBackward0()
        elif na == 2 and nb == 1:
            n = R.MvBackward0()
        else:
            n = R.MatmulBackward() if not (na == 1 and nb == 2) else _VecMatBackward()
            n._meta = ((xa.shape, xa.dtype), (xb.shape, xb.dtype))
        save(n, a, b)
        link(n, res, a, b)
    return _out(res, out, "exact")


def mm(a, b, *, out=None):
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b, out=out)


def bmm(a, b, *, out=None):
    xa, xb = a._data, b._data
    if xa.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if xb.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if xa.shape[0] != xb.shape[0] or xa.shape[2] != xb.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{xa.shape[0]}, {xa.shape[2]}] but got: [{xb.shape[0]}, {xb.shape[1]}].")
    _check_float_like(xa, xb, "bmm")
    res = _make(xa @ xb if xa.dtype.kind != "V" else _mm_bf16(xa, xb))
    if grad_state.enabled and (a._rg or b._rg):
        n = R.BmmBackward0()
        save(n, a, b)
        link(n, res, a, b)
    return _out(res, out, "exact")


def mv(a, v, *, out=None):
    if a._data.ndim != 2 or v._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {a._data.ndim}, {v._data.ndim}")
    return matmul(a, v, out=out)


def dot(a, b, *, out=None):
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found "
            f"{a.dtype.name.capitalize()} and {b.dtype.name.capitalize()}")
    return matmul(a, b, out=out)


inner_ = dot


def vdot(a, b):
    return dot(a.conj(), b)


def outer(a, b):
    # PyTorch: a.reshape(-1, 1) * b, broadcasting b (one ViewBackward0, b's own edge)
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(
            f"outer: expected 1-D tensors, got {a._data.ndim}-D and {b._data.ndim}-D")
    return a.reshape(-1, 1) * b


ger = outer


def addmm(bias, x, w, *, beta=1, alpha=1):
    """bias + x @ w (PyTorch's AddmmBackward0; nn.Linear on 2-D input uses it)."""
    if beta != 1 or alpha != 1:
        return bias * beta + mm(x, w) * alpha
    xx, xw = x._data, w._data
    if xx.ndim != 2 or xw.ndim != 2:
        raise RuntimeError("addmm: expected 2-D matrices")
    if xx.shape[1] != xw.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({xx.shape[0]}x{xx.shape[1]} and "
            f"{xw.shape[0]}x{xw.shape[1]})")
    _check_float_like(xx, xw, "addmm_impl_cpu_")
    if xx.dtype.kind == "V":  # bfloat16
        r = _mm_bf16(xx, xw, bias._data)
    else:
        r = xx @ xw
        r += bias._data
    res = _make(r)
    if grad_state.enabled and (bias._rg or x._rg or w._rg):
        n = R.AddmmBackward0()
        b = bias._data
        n._meta = (None if b.shape == r.shape else (b.shape, b.dtype), None, None)
        save(n, x, w)
        link(n, res, bias, x, w)
    return res


def addmv(bias, mat, vec, *, beta=1, alpha=1):
    return bias * beta + mv(mat, vec) * alpha


def baddbmm(inp, b1, b2, *, beta=1, alpha=1):
    return inp * beta + bmm(b1, b2) * alpha


def addbmm(inp, b1, b2, *, beta=1, alpha=1):
    return inp * beta + bmm(b1, b2).sum(0) * alpha


# ---------------------------------------------------------------- einsum
def _parse_einsum(eq, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    specs = lhs.split(",")
    if len(specs) != len(shapes):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(shapes) > len(specs) else
            "einsum(): fewer operands were provided than specified in the equation")
    # expand ellipses into fresh letters
    used = set(c for c in eq if c.isalpha())
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    ell_n = 0
    for s, shp in zip(specs, shapes):
        if "..." in s:
            ell_n = builtins.max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    out_specs = []
    for s, shp in zip(specs, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        if len(s) != len(shp):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(s)}) does not match "
                f"the number of dimensions ({len(shp)}) for operand {len(out_specs)}"
                + (" and no ellipsis was given" if "..." not in s else ""))
        out_specs.append(s)
    if rhs is None:
        counts = {}
        for s in out_specs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return out_specs, rhs


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = tuple(operands)
    specs, rhs = _parse_einsum(equation, [o._data.shape for o in ops])
    seen = {}
    for i, (sp, o) in enumerate(zip(specs, ops)):
        for c, s in zip(sp, o._data.shape):
            prev = seen.get(c)
            if prev is not None and prev != s and prev != 1 and s != 1:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {s} for operand {i} which does not "
                    f"broadcast with previously seen size {prev}")
            if prev is None or prev == 1:
                seen[c] = s
    dt = ops[0].dtype
    for o in ops[1:]:
        dt = D.promote_types(dt, o.dtype)
    arrs = [o._data if o._data.dtype == dt.np else o._data.astype(dt.np) for o in ops]
    eq = ",".join(specs) + "->" + rhs
    if dt is D.bfloat16:  # NumPy's einsum has no bfloat16: float32 accumulation, one rounding
        r = np.einsum(eq, *[a.astype(np.float32) for a in arrs], optimize=len(arrs) > 2)
        r = arr(r).astype(dt.np)
    else:
        r = np.einsum(eq, *arrs, optimize=len(arrs) > 2)
    res = _make(arr(r))
    if grad_state.enabled and builtins.any(o._rg for o in ops):
        n = R.EinsumBackward()
        n.specs, n.out_spec = specs, rhs
        save(n, *ops)
        link(n, res, *ops)
    return res


def einsum_grad(specs, out_spec, ops, g, i):
    """Gradient of an einsum w.r.t. operand i, itself an einsum (so it differentiates again)."""
    target = specs[i]
    shape = ops[i].shape
    sizes = {}
    for s, o in zip(specs, ops):
        for c, n in zip(s, o.shape):
            sizes[c] = n
    others = [(specs[j], ops[j]) for j in range(len(ops)) if j != i]
    avail = set(out_spec)
    for s, _ in others:
        avail |= set(s)
    # letters of the target: unique, available ones are produced by einsum, missing are expanded
    uniq = []
    for c in target:
        if c not in uniq:
            uniq.append(c)
    produce = "".join(c for c in uniq if c in avail)
    in_specs = [out_spec] + [s for s, _ in others]
    in_ops = [g] + [o.conj() for _, o in others]  # complex: conjugate operands
    r = einsum(",".join(in_specs) + "->" + produce, *in_ops)
    # expand letters that appear only in the target (summed out in the forward)
    full = produce
    for c in uniq:
        if c not in avail:
            r = r.unsqueeze(-1).expand(*r.shape, sizes[c])
            full += c
    # repeated letters in the target (diagonals): embed with identity matrices
    if len(uniq) != len(target):
        from ..creation import eye
        letters = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   if c not in set("".join(specs)) | set(out_spec)]
        seen = set()
        tgt = ""
        deltas = []
        dspecs = []
        for c in target:
            if c in seen:
                nc = letters.pop(0)
                tgt += nc
                deltas.append(eye(sizes[c], dtype=g.dtype, device=g.device))
                dspecs.append(c + nc)
            else:
                seen.add(c)
                tgt += c
        r = einsum(",".join([full] + dspecs) + "->" + tgt, r, *deltas)
        return r.reshape(shape)
    if full != target:
        r = r.permute([full.index(c) for c in target])
    return r


def tensordot(a, b, dims=2):
    xa, xb = a._data, b._data
    if isinstance(dims, int):
        da = list(range(-dims, 0))  # PyTorch: the last `dims` of a (negative, as it reports them)
        db = list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist() if dims._data.ndim else int(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    for p, q in zip(da, db):
        if xa.shape[p] != xb.shape[q]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {xa.shape[p]} in dim "
                f"{p} and second has size {xb.shape[q]} in dim {q}")
    da = [wrap_dim(d, xa.ndim) for d in da]
    db = [wrap_dim(d, xb.ndim) for d in db]
    fa = [d for d in range(xa.ndim) if d not in da]
    fb = [d for d in range(xb.ndim) if d not in db]
    m = 1
    for d in fa:
        m *= xa.shape[d]
    k = 1
    for d in da:
        k *= xa.shape[d]
    n = 1
    for d in fb:
        n *= xb.shape[d]
    A = a.permute(fa + da).reshape(m, k)
    B = b.permute(db + fb).reshape(k, n)
    return A.mm(B).reshape([xa.shape[d] for d in fa] + [xb.shape[d] for d in fb])


def inner(a, b):
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def kron(a, b):
    xa, xb = a._data, b._data
    nd = builtins.max(xa.ndim, xb.ndim)
    A = a.reshape((1,) * (nd - xa.ndim) + xa.shape)
    B = b.reshape((1,) * (nd - xb.ndim) + xb.shape)
    sa, sb = A.shape, B.shape
    ia = []
    ib = []
    for i in range(nd):
        ia += [sa[i], 1]
        ib += [1, sb[i]]
    r = A.reshape(ia) * B.reshape(ib)
    return r.reshape([sa[i] * sb[i] for i in range(nd)])


# ---------------------------------------------------------------- diagonals and triangles
def diagonal(x, offset=0, dim1=0, dim2=1):
    a = x._data
    d1, d2 = wrap_dim(dim1, a.ndim), wrap_dim(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    res = _make(_contig(np.diagonal(a, offset, d1, d2)))
    if x._rg and grad_state.enabled:
        n = R.DiagonalBackward0()
        n.shape, n.offset, n.dim1, n.dim2 = a.shape, offset, d1, d2
        link(n, res, x)
    return res


def _diagonal_scatter(g, shape, offset, d1, d2):
    """zeros(shape) with g written on its (offset, d1, d2) diagonal (diagonal's backward)."""
    r = _gam(g._data).zeros(shape, g._data.dtype)
    n1, n2 = shape[d1], shape[d2]
    L = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else
                     builtins.min(n1 + offset, n2))
    i = np.arange(L)
    i1, i2 = (i, i + offset) if offset >= 0 else (i - offset, i)
    np.moveaxis(r, (d1, d2), (-2, -1))[..., i1, i2] = g._data
    res = _make(r)
    if g._rg and grad_state.enabled:
        n = R.DiagonalBackwardBackward0()
        n.offset, n.dim1, n.dim2 = offset, d1, d2
        link(n, res, g)
    return res


def trace(x):
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
    a = x._data
    res = _make(arr(np.trace(a, dtype=np.int64 if a.dtype.kind in "biu" else a.dtype)))
    if x._rg and grad_state.enabled:
        n = R.TraceBackward0()
        n.shape = a.shape
        link(n, res, x)
    return res


def _tri(x, k, lower):
    a = x._data
    if a.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 "
                           f"dimensions")
    n, m = a.shape[-2:]
    mask = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    if type(a) is not np.ndarray:
        from ..backend import get_array_module
        mask = get_array_module(a).asarray(mask)
    out = _make(np.where(mask, a, a.dtype.type(0)))
    if x._rg and grad_state.enabled:    # PyTorch's TrilBackward0 / TriuBackward0
        node = (R.TrilBackward0 if lower else R.TriuBackward0)()
        node.k = k
        link(node, out, x)
    return out


def tril(x, diagonal=0):
    return _tri(x, diagonal, True)


def triu(x, diagonal=0):
    return _tri(x, diagonal, False)


def diag(x, diagonal_=0):
    a = x._data
    if a.ndim == 1:
        n = a.shape[0] + builtins.abs(diagonal_)
        from ..creation import zeros
        z = zeros(n, n, dtype=x.dtype)
        idx = np.arange(a.shape[0])
        r, c = (idx, idx + diagonal_) if diagonal_ >= 0 else (idx - diagonal_, idx)
        from .indexing import index_put_zeros
        return index_put_zeros((n, n), (r, c), x) if x._rg else _diag_np(a, diagonal_, z)
    if a.ndim == 2:
        return diagonal(x, diagonal_)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(a.ndim) + "D")


def _diag_np(a, k, z):
    return _make(np.diag(a, k))


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    a = x._data
    n = a.shape[-1] + builtins.abs(offset)
    idx = np.arange(a.shape[-1])
    r, c = (idx, idx + offset) if offset >= 0 else (idx - offset, idx)
    from .indexing import index_put_zeros
    out = index_put_zeros(a.shape[:-1] + (n, n), (Ellipsis, r, c), x)
    nd = a.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if (d1, d2) != (nd - 2, nd - 1):
        perm = list(range(nd - 2))
        order = [None] * nd
        rest = iter(perm)
        for i in range(nd):
            if i == d1:
                order[i] = nd - 2
            elif i == d2:
                order[i] = nd - 1
            else:
                order[i] = next(rest)
        out = out.permute(order)
    return out
