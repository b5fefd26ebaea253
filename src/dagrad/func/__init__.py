"""dagrad.func (torch.func): composable transforms grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, functional_call and vmap.

The differentiation transforms run dagrad's reverse-mode engine on fresh leaves; inside `vmap`
they work on the *physical* tensors (all batch dims in front), after broadcasting every
differentiated input over the active vmap levels, so that `vmap(grad(f))` gives per-sample
gradients even for inputs that are not mapped (e.g. the parameters in per-sample-gradient code).
When an input already requires grad (an enclosing transform), the graph stays connected to it
and gradients are built with create_graph, which is what makes `jacfwd(jacrev(f))` and
`grad(grad(f))` work.
"""
import functools

from ..tensor import Tensor
from . import _vmap as _V
from ._vmap import BatchedTensor, NoBatchingRule, vmap  # noqa: F401

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "functional_call", "vmap", "linearize", "stack_module_state"]

_flatten, _unflatten = _V._flatten, _V._unflatten


def _grad_mode():
    from ..autograd import grad_mode
    return grad_mode


class _Prepared:
    """Differentiable stand-ins for the inputs: what f sees, and the physical tensors."""

    def __init__(self, xs):
        self.inputs, self.phys, self.levels, self.connected = [], [], [], False
        for x in xs:
            if not isinstance(x, Tensor):
                raise RuntimeError(
                    f"Expected argument to be a Tensor but got {type(x).__name__} (only Tensors "
                    "can be differentiated)")
            lifted = _V.lift_all(x)
            levels = _V.levels_of(lifted)
            p = _V.physical(lifted)
            if p.requires_grad:
                self.connected = True
                p = p.view_as(p)
            else:
                p = p.detach()
                if p.dtype.is_floating_point or p.dtype.is_complex:
                    p.requires_grad_(True)
            self.phys.append(p)
            self.levels.append(levels)
            self.inputs.append(_V.rewrap(p, levels))

    def wrap(self, g, i):
        return _V.rewrap(g, self.levels[i])


def _physical_like(t, ref_levels):
    t = _V.lift_all(t)
    return _V.physical(t)


def _argnums_tuple(argnums, nargs, name):
    if isinstance(argnums, int):
        if not -nargs <= argnums < nargs:
            raise RuntimeError(
                f"Got argnums={argnums}, but only {nargs} positional inputs")
        return (argnums % nargs,), True
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError(f"{name}: argnums must be non-empty")
        return tuple(a % nargs for a in argnums), False
    raise RuntimeError(
        f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _out_scalar_check(out, name):
    if not isinstance(out, Tensor):
        raise RuntimeError(
            f"{name}(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
    if out.dim() != 0:
        raise RuntimeError(
            f"{name}(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
            f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")


def _autograd_grad(outs, inputs, gouts, create_graph, retain_graph=None):
    from ..autograd import grad as agrad
    pairs = [(o, g) for o, g in zip(outs, gouts) if o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(agrad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                      create_graph=create_graph, retain_graph=retain_graph, allow_unused=True))


def _zeros_like(x):
    import dagrad
    return dagrad.zeros_like(x)


def grad_and_value(func, argnums=0, has_aux=False):
    """Return a function computing (gradient of func w.r.t. args[argnums], func's value)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gm = _grad_mode()
        argn, single = _argnums_tuple(argnums, len(args), "grad_and_value")
        trees = [args[i] for i in argn]
        leaves_specs = [_flatten(t) for t in trees]
        flat = [x for lv, _ in leaves_specs for x in lv]
        with gm.enable_grad():
            prep = _Prepared(flat)
            new_args = list(args)
            k = 0
            for i, (lv, spec) in zip(argn, leaves_specs):
                new_args[i] = _unflatten(prep.inputs[k:k + len(lv)], spec)
                k += len(lv)
            out = _V._swapped(func)(*new_args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(
                        "grad_and_value(f)(*args): output of function f should be a tuple: "
                        "(output, aux) if has_aux is True")
                out, aux = out
            _out_scalar_check(out, "grad_and_value")
            out_p = _V.physical(_V.lift_all(out))
            from ..creation import ones_like
            create = prep.connected
            gs = _autograd_grad([out_p], prep.phys, [ones_like(out_p)], create_graph=create)
        res = []
        for i, (g, p) in enumerate(zip(gs, prep.phys)):
            if g is None:
                g = _zeros_like(p)
            res.append(prep.wrap(g, i))
        grads = []
        k = 0
        for lv, spec in leaves_specs:
            grads.append(_unflatten(res[k:k + len(lv)], spec))
            k += len(lv)
        g_out = grads[0] if single else tuple(grads)
        value = out if create else _detach_tree(out)
        if has_aux:
            return g_out, (value, _detach_tree(aux) if not create else aux)
        return g_out, value
    return wrapper


def _detach_tree(t):
    leaves, spec = _flatten(t)
    return _unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def grad(func, argnums=0, has_aux=False):
    """Return a function computing the gradient of (scalar) func w.r.t. args[argnums]."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, v = gv(*args, **kwargs)
        if has_aux:
            return g, v[1]
        return g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) -> one gradient per primal."""
    gm = _grad_mode()
    leaves_specs = [_flatten(p) for p in primals]
    flat = [x for lv, _ in leaves_specs for x in lv]
    with gm.enable_grad():
        prep = _Prepared(flat)
        new_args, k = [], 0
        for lv, spec in leaves_specs:
            new_args.append(_unflatten(prep.inputs[k:k + len(lv)], spec))
            k += len(lv)
        out = func(*new_args)
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise RuntimeError(
                "vjp(f, *primals): output of function f should be a tuple: (output, aux) if "
                "has_aux is True")
        out, aux = out
    out_leaves, out_spec = _flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"vjp(f, *primals): Expected f to be a function that has non-empty output, and "
                f"all outputs must be Tensors, got {type(o)}")
    out_p = [_V.physical(_V.lift_all(o)) for o in out_leaves]

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        c_leaves, c_spec = _flatten(cotangents)
        if len(c_leaves) != len(out_leaves):
            raise RuntimeError(
                f"Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {len(c_leaves)} tensors, primal "
                f"output: {len(out_leaves)} tensors")
        for c, o in zip(c_leaves, out_leaves):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and output[0] "
                    f"has a shape of {o.shape}.")
        cps = [_V.physical(_V.lift_all(c)) for c in c_leaves]
        cg = prep.connected or any(c.requires_grad for c in cps) if create_graph is None \
            else create_graph
        with gm.enable_grad():
            gs = _autograd_grad(out_p, prep.phys, cps, create_graph=cg, retain_graph=True)
        res = [prep.wrap(g if g is not None else _zeros_like(p), i)
               for i, (g, p) in enumerate(zip(gs, prep.phys))]
        outs, k = [], 0
        for lv, spec in leaves_specs:
            outs.append(_unflatten(res[k:k + len(lv)], spec))
            k += len(lv)
        return tuple(outs)

    value = out if prep.connected else _detach_tree(out)
    if has_aux:
        return value, vjp_fn, aux
    return value, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J·tangents): forward-mode AD (autograd.forward_ad) when every op has a
    tangent rule and no other transform is active, else the double-vjp trick (a vjp of a vjp)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
            f"valid to call f(*primals). Got type {type(primals)}")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            "structure. For example, if primals is a tuple of 3 tensors, tangents also must be.")
    p_leaves, p_spec = _flatten(primals)
    t_leaves, _ = _flatten(tangents)
    for p, t in zip(p_leaves, t_leaves):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected primals and tangents to have the same "
                f"shape, got {tuple(p.shape)} and {tuple(t.shape)}")
    r = _jvp_forward_ad(func, p_leaves, p_spec, t_leaves, has_aux)
    if r is not None:
        return r
    gm = _grad_mode()
    with gm.enable_grad():
        prep = _Prepared(p_leaves)
        out = func(*_unflatten(prep.inputs, p_spec))
        aux = None
        if has_aux:
            out, aux = out
        o_leaves, o_spec = _flatten(out)
        o_phys = [_V.physical(_V.lift_all(o)) for o in o_leaves]
        import dagrad
        us = [dagrad.zeros_like(o).requires_grad_(True) for o in o_phys]
        gs = _autograd_grad(o_phys, prep.phys, us, create_graph=True)
        tps = [_V.physical(_V.lift_all(t)) for t in t_leaves]
        pairs = [(g, t) for g, t in zip(gs, tps) if g is not None and g.requires_grad]
        if pairs:
            from ..autograd import grad as agrad
            js = agrad([g for g, _ in pairs], us, [t for _, t in pairs],
                       create_graph=prep.connected, allow_unused=True, retain_graph=True)
        else:
            js = [None] * len(us)
    res = []
    for j, o, u in zip(js, o_leaves, o_phys):
        lv = _V.levels_of(_V.lift_all(o))
        res.append(_V.rewrap(j if j is not None else dagrad.zeros_like(u), lv))
    value = out if prep.connected else _detach_tree(out)
    jv = _unflatten(res, o_spec)
    if has_aux:
        return value, jv, aux
    return value, jv


def _jvp_forward_ad(func, p_leaves, p_spec, t_leaves, has_aux):
    """jvp by true forward mode (autograd.forward_ad), or None when it cannot be used here:
    inside vmap or another dual level, inputs that require grad (an enclosing transform),
    non-float inputs, or an op without a tangent rule / an output that lost its tangent."""
    r = _jvp_forward_ad_many(func, p_leaves, p_spec, [t_leaves], has_aux)
    return None if r is None else r[0]


def _jvp_forward_ad_many(func, p_leaves, p_spec, tangent_sets, has_aux):
    """One forward-mode jvp per set of tangents, all inside one dual level (jacfwd's columns)."""
    import dagrad

    from ..autograd import forward_ad as fwAD
    if _V._levels or fwAD._active_level is not None:
        return None
    for p in p_leaves:
        if not isinstance(p, Tensor) or p.requires_grad or not (
                p.is_floating_point() or p.is_complex()):
            return None
    results = []
    try:
        with fwAD.dual_level():
            for t_leaves in tangent_sets:
                duals = [fwAD.make_dual(p, t) for p, t in zip(p_leaves, t_leaves)]
                out = func(*_unflatten(duals, p_spec))
                aux = None
                if has_aux:
                    out, aux = out
                o_leaves, o_spec = _flatten(out)
                prims, tans = [], []
                for o in o_leaves:
                    if not isinstance(o, Tensor):
                        return None
                    u = fwAD.unpack_dual(o)
                    if u.tangent is None and (o.is_floating_point() or o.is_complex()):
                        return None  # maybe a genuinely constant output: the slow path decides
                    prims.append(u.primal)
                    tans.append(u.tangent if u.tangent is not None else dagrad.zeros_like(o))
                if has_aux:
                    al, aspec = _flatten(aux)
                    aux = _unflatten([fwAD.unpack_dual(a).primal if isinstance(a, Tensor)
                                      else a for a in al], aspec)
                value, jv = _unflatten(prims, o_spec), _unflatten(tans, o_spec)
                results.append((value, jv, aux) if has_aux else (value, jv))
    except (NotImplementedError, NoBatchingRule):
        return None
    return results


def _basis_jacobian(out, ins_phys, prep, create):
    """Rows of the Jacobian of `out` (logical) w.r.t. the physical inputs: func ran once, and one
    backward pass with the standard basis as batched grad_outputs gives every row (PyTorch's
    vmap(vjp_fn), through autograd.grad(..., is_grads_batched=True))."""
    import dagrad
    lifted = _V.lift_all(out)
    levels = _V.levels_of(lifted)
    out_p = _V.physical(lifted)
    nb = len(levels)
    bshape = tuple(out_p.shape[:nb])
    lshape = tuple(out_p.shape[nb:])
    m = 1
    for s in lshape:
        m *= s
    flat_out = out_p.reshape(bshape + (m,))
    gs = [None] * len(ins_phys)
    if m and flat_out.requires_grad:
        # every row in ONE backward pass: the basis as batched grad_outputs (is_grads_batched)
        from ..autograd import grad as agrad
        eye = dagrad.eye(m, dtype=out_p.dtype, device=out_p.device).reshape(
            (m,) + (1,) * nb + (m,))
        E = eye.expand((m,) + bshape + (m,))
        gs = agrad([flat_out], ins_phys, [E], create_graph=create, retain_graph=True,
                   allow_unused=True, is_grads_batched=True)
    res = []
    for i, (g, p) in enumerate(zip(gs, ins_phys)):
        in_l = tuple(p.shape[len(prep.levels[i]):])
        if g is None:
            J = dagrad.zeros(bshape + lshape + in_l, dtype=p.dtype, device=p.device)
        else:
            J = g.movedim(0, nb).reshape(bshape + lshape + in_l)
        res.append(_V.rewrap(J, levels))
    return res


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """Jacobian of func w.r.t. args[argnums] by reverse mode: shape out.shape + input.shape."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gm = _grad_mode()
        argn, single = _argnums_tuple(argnums, len(args), "jacrev")
        trees = [args[i] for i in argn]
        leaves_specs = [_flatten(t) for t in trees]
        flat = [x for lv, _ in leaves_specs for x in lv]
        with gm.enable_grad():
            prep = _Prepared(flat)
            new_args = list(args)
            k = 0
            for i, (lv, spec) in zip(argn, leaves_specs):
                new_args[i] = _unflatten(prep.inputs[k:k + len(lv)], spec)
                k += len(lv)
            out = _V._swapped(func)(*new_args, **kwargs)
            aux = None
            if has_aux:
                out, aux = out
            o_leaves, o_spec = _flatten(out)
            per_out = []
            for o in o_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(
                        f"jacrev(f, ...)(*args): expected f(*args) to return only tensors, got "
                        f"unsupported type {type(o)}")
                Js = _basis_jacobian(o, prep.phys, prep, prep.connected)
                grouped, k = [], 0
                for lv, spec in leaves_specs:
                    grouped.append(_unflatten(Js[k:k + len(lv)], spec))
                    k += len(lv)
                per_out.append(grouped[0] if single else tuple(grouped))
        res = _unflatten(per_out, o_spec)
        if has_aux:
            return res, aux
        return res
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Jacobian by forward mode (one jvp per input element): shape out.shape + input.shape."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import dagrad
        argn, single = _argnums_tuple(argnums, len(args), "jacfwd")
        trees = [args[i] for i in argn]
        leaves_specs = [_flatten(t) for t in trees]
        flat = [x for lv, _ in leaves_specs for x in lv]

        def f_flat(*xs):
            new_args = list(args)
            k = 0
            for i, (lv, spec) in zip(argn, leaves_specs):
                new_args[i] = _unflatten(list(xs[k:k + len(lv)]), spec)
                k += len(lv)
            return func(*new_args, **kwargs)

        cols = None  # per output leaf, per input leaf: list of jvp columns
        out = aux = None
        sets, owners = [], []
        for j, x in enumerate(flat):
            for e in range(x.numel()):
                tans = []
                for jj, y in enumerate(flat):
                    t = dagrad.zeros(tuple(y.shape), dtype=y.dtype, device=y.device)
                    if jj == j:
                        t.view(-1)[e] = 1
                    tans.append(t)
                sets.append(tuple(tans))
                owners.append(j)
        many = _jvp_forward_ad_many(f_flat, flat, _flatten(tuple(flat))[1], sets, has_aux) \
            if sets else None
        for k, (j, tans) in enumerate(zip(owners, sets)):
            r = many[k] if many is not None else jvp(f_flat, tuple(flat), tans,
                                                     has_aux=has_aux)
            if has_aux:
                out, jv, aux = r
            else:
                out, jv = r
            jl, o_spec = _flatten(jv)
            if cols is None:
                cols = [[[] for _ in flat] for _ in jl]
            for oi, c in enumerate(jl):
                cols[oi][j].append(c)
        if cols is None:  # no input elements
            out = f_flat(*flat)
            if has_aux:
                out, aux = out
            ol, o_spec = _flatten(out)
            cols = [[[] for _ in flat] for _ in ol]
        ol, o_spec = _flatten(out)
        per_out = []
        for oi, o in enumerate(ol):
            Js = []
            for j, x in enumerate(flat):
                cs = cols[oi][j]
                oshape, ishape = tuple(o.shape), tuple(x.shape)
                if not cs:
                    Js.append(dagrad.zeros(oshape + ishape, dtype=o.dtype, device=o.device))
                    continue
                J = dagrad.stack(cs, dim=-1)  # oshape + (n,)
                Js.append(J.reshape(oshape + ishape))
            grouped, k = [], 0
            for lv, spec in leaves_specs:
                grouped.append(_unflatten(Js[k:k + len(lv)], spec))
                k += len(lv)
            per_out.append(grouped[0] if single else tuple(grouped))
        res = _unflatten(per_out, o_spec)
        if has_aux:
            return res, aux
        return res
    return wrapper


def hessian(func, argnums=0):
    """Hessian as jacfwd(jacrev(func)) (PyTorch's composition)."""
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func, *primals):
    out = func(*primals)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return out, jvp_fn


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call `module` with its parameters/buffers replaced by the given tensors (by name)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        params = dict(parameter_and_buffer_dicts)
    else:
        params = {}
        for d in parameter_and_buffer_dicts:
            for k, v in d.items():
                if k in params:
                    raise ValueError(
                        f"{k} appeared in multiple dictionaries; behavior of functional call is "
                        "ambiguous")
                params[k] = v
    if strict:
        expected = {n for n, _ in module.named_parameters()} | {
            n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(params))
        unexpected = sorted(set(params) - expected)
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected)
                             + ".")
            if missing:
                parts.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for " + type(module).__name__ + ":\n\t"
                               + "\n\t".join(parts))
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    saved = []
    try:
        for name, value in params.items():
            *path, leaf = name.split(".")
            mod = module
            for p in path:
                mod = getattr(mod, p)
            d = mod.__dict__
            for store in ("_parameters", "_buffers"):
                s = d.get(store)
                if s is not None and leaf in s:
                    saved.append((s, leaf, s[leaf]))
                    s[leaf] = value
                    break
            else:
                saved.append((d, leaf, d.get(leaf, _MISSING)))
                d[leaf] = value
        return module(*args, **kwargs)
    finally:
        for s, leaf, old in reversed(saved):
            if old is _MISSING:
                s.pop(leaf, None)
            else:
                s[leaf] = old


_MISSING = object()


def stack_module_state(models):
    import dagrad
    params = {k: dagrad.stack([dict(m.named_parameters())[k].detach() for m in models])
              for k, _ in models[0].named_parameters()}
    buffers = {k: dagrad.stack([dict(m.named_buffers())[k] for m in models])
               for k, _ in models[0].named_buffers()}
    for v in params.values():
        v.requires_grad_(True)
    return params, buffers
