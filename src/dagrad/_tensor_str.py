"""Printing, character for character as PyTorch 2.13's torch/_tensor_str.py prints."""
import math

from . import _dtype as D
from .backend import np


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    return {"precision": PRINT_OPTS.precision, "threshold": PRINT_OPTS.threshold,
            "edgeitems": PRINT_OPTS.edgeitems, "linewidth": PRINT_OPTS.linewidth,
            "sci_mode": PRINT_OPTS.sci_mode}


def _py(v):
    return v.item() if hasattr(v, "item") else v


class _Formatter:
    def __init__(self, a):
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = a.reshape(-1)
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)]
            if vals.size == 0:
                pass
            else:
                ab = np.abs(vals.astype(np.float64))
                mn, mx = float(ab.min()), float(ab.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                pyvals = vals.tolist()
                # PyTorch 2.13: sci_mode is decided first (a set sci_mode option wins), then the
                # width is measured in the chosen notation
                if PRINT_OPTS.sci_mode is None:
                    self.sci_mode = mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4
                else:
                    self.sci_mode = PRINT_OPTS.sci_mode
                if self.sci_mode:
                    for v in pyvals:
                        self.max_width = max(self.max_width, len(f"{v:.{p}e}"))
                elif self.int_mode:
                    for v in pyvals:
                        self.max_width = max(self.max_width, len(f"{v:.0f}") + 1)
                else:
                    for v in pyvals:
                        self.max_width = max(self.max_width, len(f"{v:.{p}f}"))

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a):
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        if a.shape[0] > 2 * e:
            return np.concatenate((a[:e], a[-e:]))
        return a
    if not e:
        return a.reshape((0,) * a.ndim)
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a, indent, summarize, fmt, fmt2=None):
    elem_len = fmt.width() + 2
    if fmt2 is not None:
        elem_len += fmt2.width() + 1
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / elem_len)))
    e = PRINT_OPTS.edgeitems

    def f(v):
        if fmt2 is not None:
            real = fmt.format(v.real)
            imag = (fmt2.format(v.imag) + "j").lstrip()  # PyTorch strips the imag padding
            if imag[0] in ("+", "-"):
                return real + imag
            return real + "+" + imag
        return fmt.format(v)

    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = [f(v) for v in a[:e].tolist()] + [" ..."] + [f(v) for v in a[-e:].tolist()]
    else:
        data = [f(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with(a, indent, summarize, fmt, fmt2=None):
    nd = a.ndim
    if nd == 0:
        v = a.item()
        if fmt2 is not None:
            real = fmt.format(v.real)
            imag = (fmt2.format(v.imag) + "j").lstrip()  # PyTorch strips the imag padding
            if imag[0] in ("+", "-"):
                return real + imag
            return real + "+" + imag
        return fmt.format(v)
    if nd == 1:
        return _vector_str(a, indent, summarize, fmt, fmt2)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_str_with(a[i], indent + 1, summarize, fmt, fmt2) for i in range(e)] +
                  ["..."] +
                  [_str_with(a[i], indent + 1, summarize, fmt, fmt2)
                   for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_str_with(a[i], indent + 1, summarize, fmt, fmt2) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (nd - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a, indent):
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16 or a.dtype.kind == "V":  # half / bfloat16 print as float (PyTorch)
        a = a.astype(np.float32)
    if a.dtype.kind == "c":
        s = _summarized(a) if summarize else a
        f_re = _Formatter(s.real.copy())
        f_im = _Formatter(s.imag.copy())
        return _str_with(a, indent, summarize, f_re, f_im)
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _str_with(a, indent, summarize, fmt)


def _add_suffixes(tensor_str, suffixes, indent, force_newline=False):
    strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        n = len(suffix)
        if force_newline or last_line_len + n + 2 > PRINT_OPTS.linewidth:
            strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + n
            force_newline = False
        else:
            strs.append(", " + suffix)
            last_line_len += n + 2
    strs.append(")")
    return "".join(strs)


def tensor_repr(t, tensor_contents=None):
    from .tensor import Tensor
    a = t._data
    if type(a) is not np.ndarray:
        a = a.get()
    cls = type(t)
    plain = cls is Tensor or cls.__name__ in ("Parameter", "Buffer")
    prefix = "tensor(" if plain else f"{cls.__name__}("
    indent = len(prefix)
    suffixes = []
    dev = t.device
    from .creation import _default_device
    if dev.type != _default_device[0]:
        suffixes.append("device='" + str(dev) + "'")
    dt = D.FROM_NP[t._data.dtype]
    default_complex = D.complex128 if D.default.dtype is D.float64 else D.complex64
    has_default = dt in (D.default.dtype, default_complex, D.int64, D.bool_)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if dt is not D.default.dtype:
            suffixes.append("dtype=" + repr(dt))
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not has_default:
            suffixes.append("dtype=" + repr(dt))
        body = _tensor_str(a, indent)
    if tensor_contents is not None:
        body = tensor_contents
    fn = t.grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    tangent = getattr(t, "_fw", None)
    if tangent:
        from .autograd import forward_ad as _fa
        tan = _fa._current_tangent(t)
        if tan is not None:
            suffixes.append(f"tangent={tan!r}")
    return _add_suffixes(prefix + body, suffixes, indent)
