"""RNN, LSTM, GRU (and their cells) with PyTorch's parameter names, layout and init.

Each layer/direction projects the whole input sequence with one GEMM, then steps through time
with h @ W_hh^T; gradients come from the recorded Tensor ops.
"""
import math
import numbers
import warnings

from ... import _dtype as _D
from ... import creation as C
from ...ops import linalg as _L
from ...ops.movement import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNBase(Module):
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(
                f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        elif mode in ("RNN_TANH", "RNN_RELU"):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = (input_size if layer == 0
                                    else real_hidden_size * num_directions)
                w_ih = Parameter(C.empty((gate_size, layer_input_size), **fk))
                w_hh = Parameter(C.empty((gate_size, real_hidden_size), **fk))
                b_ih = Parameter(C.empty(gate_size, **fk))
                b_hh = Parameter(C.empty(gate_size, **fk))
                if self.proj_size == 0:
                    layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                else:
                    w_hr = Parameter(C.empty((proj_size, hidden_size), **fk))
                    layer_params = ((w_ih, w_hh, b_ih, b_hh, w_hr) if bias
                                    else (w_ih, w_hh, w_hr))
                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if self.proj_size > 0:
                    param_names += ["weight_hr_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(param_names)
                self._all_weights.append(param_names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, wn, None) for wn in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def flatten_parameters(self):
        pass

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------ checks
    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)
            tail = " tensor instead" if name == "RNN" else " instead"
            raise ValueError(
                f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tail}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.size(-1)}")

    def _expected_hidden(self, batch, cell=False):
        nd = 2 if self.bidirectional else 1
        h = self.hidden_size if (cell or self.proj_size == 0) else self.proj_size
        return (self.num_layers * nd, batch, h)

    @staticmethod
    def _check_hidden(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    # ------------------------------------------------------------ the recurrence
    def _cell(self, x_proj, h, c, w_hh_t, b_hh, w_hr):
        """One step. x_proj = x @ W_ih^T + b_ih (+ b_hh except for GRU), precomputed for the
        whole sequence; w_hh_t = W_hh^T, transposed once per sequence."""
        mode = self.mode
        if mode == "GRU" and b_hh is not None:
            hh = _L.addmm(b_hh, h, w_hh_t)
        else:
            hh = _L.mm(h, w_hh_t)
        if mode == "LSTM":
            gates = x_proj + hh
            i, f, g, o = gates.chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            if w_hr is not None:
                h = F.linear(h, w_hr)
            return h, c
        if mode == "GRU":
            xr, xz, xn = x_proj.chunk(3, 1)
            hr, hz, hn = hh.chunk(3, 1)
            r = (xr + hr).sigmoid()
            z = (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
            return n + z * (h - n), None
        pre = x_proj + hh
        return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None

    def _run(self, x, hx, cx, batch_sizes=None):
        """x: (L, N, H_in); hx/cx: (layers*dirs, N, H). Returns output, h_n, c_n.

        batch_sizes (packed input, lengths sorted decreasingly): at step t only the first
        batch_sizes[t] rows advance; the others keep their state."""
        nd = 2 if self.bidirectional else 1
        hs, cs = [], []
        layer_input = x
        L = x.shape[0]
        for layer in range(self.num_layers):
            outs_dirs = []
            for d in range(nd):
                sfx = "_reverse" if d == 1 else ""
                w_ih = getattr(self, f"weight_ih_l{layer}{sfx}")
                w_hh = getattr(self, f"weight_hh_l{layer}{sfx}")
                b_ih = getattr(self, f"bias_ih_l{layer}{sfx}") if self.bias else None
                b_hh = getattr(self, f"bias_hh_l{layer}{sfx}") if self.bias else None
                w_hr = getattr(self, f"weight_hr_l{layer}{sfx}") if self.proj_size else None
                idx = layer * nd + d
                h = hx[idx]
                c = cx[idx] if cx is not None else None
                xp = F.linear(layer_input, w_ih, b_ih)  # (L, N, G)
                if b_hh is not None and self.mode != "GRU":
                    xp = xp + b_hh
                steps = xp.unbind(0)
                w_hh_t = w_hh.t()
                order = range(L - 1, -1, -1) if d == 1 else range(L)
                outs = [None] * L
                N = x.shape[1]
                for t in order:
                    h2, c2 = self._cell(steps[t], h, c, w_hh_t, b_hh, w_hr)
                    bs = N if batch_sizes is None else batch_sizes[t]
                    if bs < N:
                        h2 = cat([h2[:bs], h[bs:]], 0)
                        if c2 is not None:
                            c2 = cat([c2[:bs], c[bs:]], 0)
                    h, c = h2, c2
                    outs[t] = h
                outs_dirs.append(stack(outs, 0))
                hs.append(h)
                cs.append(c)
            layer_output = outs_dirs[0] if nd == 1 else cat(outs_dirs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        h_n = stack(hs, 0)
        c_n = stack(cs, 0) if cx is not None else None
        return layer_input, h_n, c_n

    def _forward_packed(self, packed, hx):
        from ..utils.rnn import PackedSequence, _pack_map, _padded_from_packed
        is_lstm = self.mode == "LSTM"
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        if data.dim() != 2:
            raise ValueError(
                f"{self.mode.split('_')[0]}: Expected input to be 2D or 3D, got "
                f"{data.dim() + 1}D instead")
        if self.input_size != data.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{data.size(-1)}")
        bs = [int(b) for b in batch_sizes._data]
        N = bs[0]
        x = _padded_from_packed(data, batch_sizes, None, 0.0)
        if hx is None:
            h0 = C.zeros(self._expected_hidden(N), dtype=x.dtype, device=x.device)
            c0 = (C.zeros(self._expected_hidden(N, cell=True), dtype=x.dtype, device=x.device)
                  if is_lstm else None)
        else:
            if is_lstm:
                h0, c0 = hx
                self._check_hidden(h0, self._expected_hidden(N),
                                   "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, self._expected_hidden(N, cell=True),
                                   "Expected hidden[1] size {}, got {}")
            else:
                h0, c0 = hx, None
                self._check_hidden(h0, self._expected_hidden(N))
            if sorted_indices is not None:
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if c0 is not None else None
        out, h_n, c_n = self._run(x, h0, c0, bs)
        flat = out.reshape((out.shape[0] * N,) + tuple(out.shape[2:]))
        from ...tensor import _make
        out_data = flat.index_select(0, _make(_pack_map(bs, N)))
        output = PackedSequence(out_data, batch_sizes, sorted_indices, unsorted_indices)
        if unsorted_indices is not None:
            h_n = h_n.index_select(1, unsorted_indices)
            c_n = c_n.index_select(1, unsorted_indices) if c_n is not None else None
        return output, (h_n, c_n) if is_lstm else h_n

    def _forward_impl(self, input, hx):
        from ..utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        self._check_input_dim(input)
        is_lstm = self.mode == "LSTM"
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                if is_lstm:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError(
                            "For unbatched 2-D input, hx and cx should also be 2-D but got "
                            f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                else:
                    if hx.dim() != 2:
                        raise RuntimeError(
                            "For unbatched 2-D input, hx should also be 2-D but got "
                            f"{hx.dim()}-D tensor")
                    hx = hx.unsqueeze(1)
        elif hx is not None:
            if is_lstm:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError(
                        "For batched 3-D input, hx and cx should also be 3-D but got "
                        f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            elif hx.dim() != 3:
                raise RuntimeError(
                    f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        x = input.transpose(0, 1) if self.batch_first else input
        N = x.shape[1]
        if hx is None:
            h0 = C.zeros(self._expected_hidden(N), dtype=x.dtype, device=x.device)
            c0 = (C.zeros(self._expected_hidden(N, cell=True), dtype=x.dtype, device=x.device)
                  if is_lstm else None)
        elif is_lstm:
            h0, c0 = hx
            self._check_hidden(h0, self._expected_hidden(N), "Expected hidden[0] size {}, got {}")
            self._check_hidden(c0, self._expected_hidden(N, cell=True),
                               "Expected hidden[1] size {}, got {}")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, self._expected_hidden(N))
        out, h_n, c_n = self._run(x, h0, c0)
        if (is_lstm and out.grad_fn is not None and out.dtype == _D.float32
                and not self.bidirectional and not self.proj_size):
            _rename_node(out.grad_fn, "MkldnnRnnLayerBackward0")   # torch's oneDNN LSTM on CPU
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return out, (h_n, c_n) if is_lstm else h_n


_RENAMED = {}


def _rename_node(fn, name):
    """Report `fn` under torch's node name (same class otherwise)."""
    cls = type(fn)
    sub = _RENAMED.get((cls, name))
    if sub is None:
        sub = _RENAMED[(cls, name)] = type(name, (cls,), {"__slots__": ()})
    fn.__class__ = sub


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_impl(input, hx)


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_impl(input, hx)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_impl(input, hx)


# ---------------------------------------------------------------- cells
class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(C.empty((num_chunks * hidden_size, input_size), **fk))
        self.weight_hh = Parameter(C.empty((num_chunks * hidden_size, hidden_size), **fk))
        if bias:
            self.bias_ih = Parameter(C.empty(num_chunks * hidden_size, **fk))
            self.bias_hh = Parameter(C.empty(num_chunks * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prep(self, input, hx, n_state=1):
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D "
                "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = C.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = z if n_state == 1 else (z, z)
        elif not batched:
            hx = hx.unsqueeze(0) if n_state == 1 else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        return input, hx, batched


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, batched = self._prep(input, hx)
        pre = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(hx, self.weight_hh,
                                                                        self.bias_hh)
        if self.nonlinearity == "tanh":
            ret = pre.tanh()
        elif self.nonlinearity == "relu":
            ret = pre.relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, (h, c), batched = self._prep(input, hx, 2)
        gates = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh,
                                                                          self.bias_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        if not batched:
            return h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, h, batched = self._prep(input, hx)
        xr, xz, xn = F.linear(input, self.weight_ih, self.bias_ih).chunk(3, 1)
        hr, hz, hn = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        h = n + z * (h - n)
        return h if batched else h.squeeze(0)
