"""torch.nn.utils.rnn: PackedSequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack_sequence, pad_sequence, unpad_sequence."""
from collections import namedtuple

import numpy as np

from ...tensor import Tensor, _make

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def float(self):
        from ... import _dtype as D
        return self.to(dtype=D.float32)

    def double(self):
        from ... import _dtype as D
        return self.to(dtype=D.float64)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return _make(out)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        d = lengths._data if type(lengths._data) is np.ndarray else lengths._data.get()
        return d.astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _pack_map(batch_sizes, N):
    """Flat (t * N + i) positions of the packed rows, in packed order."""
    return np.concatenate([t * N + np.arange(b) for t, b in enumerate(batch_sizes)]).astype(
        np.int64) if len(batch_sizes) else np.zeros(0, np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = _lengths_array(lengths)
    if enforce_sorted:
        if lengths.size > 1 and np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _make(order.astype(np.int64))
        lengths = lengths[order]
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    T, N = input.shape[0], input.shape[1]
    if lengths.size and lengths[0] > T:
        raise RuntimeError(
            f"Expected sequence length to be larger than or equal to the max length in lengths "
            f"({lengths[0]}), but got {T}")
    max_len = int(lengths[0]) if lengths.size else 0
    batch_sizes = np.array([(lengths > t).sum() for t in range(max_len)], dtype=np.int64)
    flat = input.reshape((T * N,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _make(_pack_map(batch_sizes, N)))
    return PackedSequence(data, _make(batch_sizes), sorted_indices,
                          invert_permutation(sorted_indices))


def _padded_from_packed(data, batch_sizes, total_length, padding_value):
    from ...ops.movement import cat
    bs = batch_sizes._data
    T = len(bs)
    N = int(bs[0]) if T else 0
    L = max(T, total_length or 0)
    rest = tuple(data.shape[1:])
    n = data.shape[0]
    pad_row = _make(np.full((1,) + rest, padding_value, dtype=data._data.dtype))
    gather = np.full(L * N, n, dtype=np.int64)
    gather[_pack_map(bs, N)] = np.arange(n)
    padded = cat([data, pad_row.to(data.device)], 0).index_select(0, _make(gather).to(data.device))
    return padded.reshape((L, N) + rest)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    max_seq_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_seq_length}")
    padded = _padded_from_packed(sequence.data, sequence.batch_sizes, total_length,
                                 padding_value)
    bs = sequence.batch_sizes._data
    N = int(bs[0]) if len(bs) else 0
    lengths = np.array([(bs > i).sum() for i in range(N)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _make(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    from ...ops.movement import cat, stack
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    max_len = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        k = s.shape[0]
        if k == max_len:
            rows.append(s)
            continue
        padpart = _make(np.full((max_len - k,) + tuple(s.shape[1:]), padding_value,
                                dtype=s._data.dtype)).to(s.device)
        rows.append(cat([s, padpart]) if padding_side == "right" else cat([padpart, s]))
    r = stack(rows)
    return r if batch_first else r.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
