"""dagrad.utils.data against torch.utils.data: collation (structure, shapes, dtypes, values),
DataLoader batching/lengths/drop_last/samplers/workers, datasets, random_split, errors."""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import dagrad
import dagrad.utils.data as dud

Point = collections.namedtuple("Point", ["x", "y"])


def _same(d, t, path="batch"):
    """Recursively compare a dagrad batch with a torch batch (types, shapes, dtypes, values)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(d, dagrad.Tensor), f"{path}: {type(d)}"
        assert tuple(d.shape) == tuple(t.shape), f"{path}: {d.shape} != {t.shape}"
        assert str(d.dtype) == str(t.dtype), f"{path}: {d.dtype} != {t.dtype}"
        np.testing.assert_array_equal(d.numpy(), t.numpy(), err_msg=path)
        return
    assert type(d).__name__ == type(t).__name__, f"{path}: {type(d)} != {type(t)}"
    if isinstance(t, dict):
        assert list(d) == list(t), path
        for k in t:
            _same(d[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(d) == len(t), path
        for i, (a, b) in enumerate(zip(d, t)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(t, np.ndarray):
        np.testing.assert_array_equal(d, t)
    else:
        assert d == t, path


def _to(lib, x):
    """Build the same nested sample for torch and dagrad (numpy arrays are shared as copies)."""
    if isinstance(x, np.ndarray) and getattr(x, "_as_tensor", False):
        pass
    if isinstance(x, TensorSpec):
        return (torch if lib == "t" else dagrad).from_numpy(x.arr.copy())
    if isinstance(x, dict):
        return {k: _to(lib, v) for k, v in x.items()}
    if isinstance(x, Point):
        return Point(*(_to(lib, v) for v in x))
    if isinstance(x, tuple):
        return tuple(_to(lib, v) for v in x)
    if isinstance(x, list):
        return [_to(lib, v) for v in x]
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


class TensorSpec:
    def __init__(self, arr):
        self.arr = arr


def _samples(kind, n=4, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = TensorSpec(rng.standard_normal((2, 3)).astype(np.float32))
        ti = TensorSpec(rng.integers(0, 9, (3,)).astype(np.int64))
        s = {
            "tensor": t,
            "int_tensor": ti,
            "float": float(rng.standard_normal()),
            "int": int(rng.integers(0, 100)),
            "bool": bool(i % 2),
            "numpy": rng.standard_normal((3,)).astype(np.float64),
            "numpy_int32": rng.integers(0, 5, (2, 2)).astype(np.int32),
            "numpy_scalar": np.float32(rng.standard_normal()),
            "numpy_int_scalar": np.int16(i),
            "str": f"s{i}",
            "tuple": (t, i, float(i) / 3),
            "list": [ti, f"x{i}", [1.5 * i, i]],
            "dict": {"a": t, "b": i, "c": {"d": 0.5 * i, "e": f"e{i}"}},
            "namedtuple": Point(t, float(i)),
            "0d": TensorSpec(np.array(i, dtype=np.float64)),
        }[kind]
        out.append(s)
    return out


KINDS = ["tensor", "int_tensor", "float", "int", "bool", "numpy", "numpy_int32", "numpy_scalar",
         "numpy_int_scalar", "str", "tuple", "list", "dict", "namedtuple", "0d"]


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_matches_torch(kind):
    samples = _samples(kind)
    t = tud.default_collate(_to("t", samples))
    d = dud.default_collate(_to("d", samples))
    _same(d, t)


@pytest.mark.parametrize("kind", ["tensor", "numpy", "numpy_scalar", "tuple", "dict",
                                  "namedtuple", "list", "int"])
def test_default_convert_matches_torch(kind):
    s = _samples(kind, n=1)[0]
    _same(dud.default_convert(_to("d", s)), tud.default_convert(_to("t", s)))


def test_default_collate_errors_match_torch():
    for bad in [[object(), object()], [np.array(["a"]), np.array(["b"])]]:
        with pytest.raises(TypeError) as et:
            tud.default_collate(bad)
        with pytest.raises(TypeError) as ed:
            dud.default_collate(bad)
        assert str(ed.value) == str(et.value).replace("torch", "dagrad") or \
            str(ed.value).split(";")[0] == str(et.value).split(";")[0]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                                           "size"):
        dud.default_collate([[1, 2], [3]])


# ---------------------------------------------------------------------------- DataLoader
def _tensor_ds(n=10, lib=dagrad):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    if lib is dagrad:
        return dud.TensorDataset(dagrad.from_numpy(x.copy()), dagrad.from_numpy(y.copy()))
    return tud.TensorDataset(torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, True),
                                                  (10, False), (16, False), (16, True),
                                                  (None, False)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    td, dd = _tensor_ds(lib=torch), _tensor_ds()
    tl = tud.DataLoader(td, batch_size=batch_size, drop_last=drop_last)
    dl = dud.DataLoader(dd, batch_size=batch_size, drop_last=drop_last)
    assert len(dl) == len(tl)
    tb, db = list(tl), list(dl)
    assert len(db) == len(tb)
    for a, b in zip(db, tb):
        _same(a, b)


def test_dataloader_over_generic_dataset_matches_torch():
    class DS:
        def __init__(self, lib):
            self.lib = lib

        def __len__(self):
            return 7

        def __getitem__(self, i):
            lib = self.lib
            return {"img": lib.full((2, 2), float(i)), "label": i, "name": f"n{i}",
                    "pt": Point(np.float32(i), [i, 2.0 * i])}

    for bs, dl_ in [(2, False), (3, True)]:
        tb = list(tud.DataLoader(DS(torch), batch_size=bs, drop_last=dl_))
        db = list(dud.DataLoader(DS(dagrad), batch_size=bs, drop_last=dl_))
        assert len(db) == len(tb)
        for a, b in zip(db, tb):
            _same(a, b)


def test_shuffle_with_generator_is_a_reproducible_permutation():
    dd = _tensor_ds(20)
    g1 = dagrad.Generator().manual_seed(42)
    g2 = dagrad.Generator().manual_seed(42)
    o1 = [int(v) for _, y in dud.DataLoader(dd, batch_size=6, shuffle=True, generator=g1)
          for v in y]
    o2 = [int(v) for _, y in dud.DataLoader(dd, batch_size=6, shuffle=True, generator=g2)
          for v in y]
    assert o1 == o2
    assert sorted(o1) == list(range(20)) and o1 != list(range(20))
    # the next epoch of the same loader gives a different order
    dl = dud.DataLoader(dd, batch_size=6, shuffle=True, generator=g1)
    assert [int(v) for _, y in dl for v in y] != o1
    # without a generator: seeded from the global generator
    dagrad.manual_seed(3)
    a = [int(v) for _, y in dud.DataLoader(dd, batch_size=5, shuffle=True) for v in y]
    dagrad.manual_seed(3)
    b = [int(v) for _, y in dud.DataLoader(dd, batch_size=5, shuffle=True) for v in y]
    assert a == b and sorted(a) == list(range(20))
    # x rows follow their labels
    for x, y in dud.DataLoader(dd, batch_size=5, shuffle=True):
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy() * 3)


def test_sampler_and_batch_sampler_and_collate_fn():
    td, dd = _tensor_ds(lib=torch), _tensor_ds()
    order = [9, 0, 4, 4, 7, 2, 1]
    tl = tud.DataLoader(td, batch_size=3, sampler=order)
    dl = dud.DataLoader(dd, batch_size=3, sampler=order)
    assert len(dl) == len(tl) == 3
    for a, b in zip(dl, tl):
        _same(a, b)
    batches = [[1, 2], [0], [9, 8, 7]]
    tl = tud.DataLoader(td, batch_sampler=batches)
    dl = dud.DataLoader(dd, batch_sampler=batches)
    assert len(dl) == len(tl) == 3
    for a, b in zip(dl, tl):
        _same(a, b)
    dl = dud.DataLoader(dd, batch_size=4, collate_fn=lambda b: [int(s[1]) for s in b])
    assert list(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    sampler = dud.SubsetRandomSampler([1, 3, 5], generator=dagrad.Generator().manual_seed(0))
    got = sorted(int(v) for _, y in dud.DataLoader(dd, batch_size=2, sampler=sampler) for v in y)
    assert got == [1, 3, 5]


def test_no_auto_batching_matches_torch():
    td, dd = _tensor_ds(lib=torch), _tensor_ds()
    for a, b in zip(dud.DataLoader(dd, batch_size=None), tud.DataLoader(td, batch_size=None)):
        _same(a, b)
    tl = tud.DataLoader(td, batch_size=None, sampler=tud.BatchSampler(range(10), 4, False))
    dl = dud.DataLoader(dd, batch_size=None, sampler=dud.BatchSampler(range(10), 4, False))
    for a, b in zip(dl, tl):
        _same(a, b)


class _Range(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class _DRange(dud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class _DSharded(dud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = dud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@pytest.mark.parametrize("bs,drop_last", [(3, False), (3, True), (None, False), (5, False)])
def test_iterable_dataset_matches_torch(bs, drop_last):
    tl = tud.DataLoader(_Range(11), batch_size=bs, drop_last=drop_last)
    dl = dud.DataLoader(_DRange(11), batch_size=bs, drop_last=drop_last)
    assert len(dl) == len(tl)
    tb, db = list(tl), list(dl)
    assert len(db) == len(tb)
    for a, b in zip(db, tb):
        _same(a, b)


def test_workers_in_process_follow_torch_delivery_order():
    # Map-style: same batches as num_workers=0; each batch fetched by worker i % num_workers
    seen = []

    class DS(dud.Dataset):
        def __len__(self):
            return 9

        def __getitem__(self, i):
            seen.append(dud.get_worker_info().id)
            return i

    inits = []
    dl = dud.DataLoader(DS(), batch_size=2, num_workers=3, worker_init_fn=inits.append)
    assert [b.tolist() for b in dl] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert inits == [0, 1, 2]
    assert seen == [0, 0, 1, 1, 2, 2, 0, 0, 1]
    assert dud.get_worker_info() is None
    # Iterable-style: replicated in every worker, batches round robin (torch's order, computed
    # from its documented semantics: worker w yields batches of its own replica in turn)
    got = [b.tolist() for b in dud.DataLoader(_DRange(5), batch_size=2, num_workers=2)]
    assert got == [[0, 1], [0, 1], [2, 3], [2, 3], [4], [4]]
    got = [b.tolist() for b in dud.DataLoader(_DSharded(7), batch_size=2, num_workers=2)]
    assert got == [[0, 2], [1, 3], [4, 6], [5]]

    class Uneven(dud.IterableDataset):  # worker 0 runs out first (torch gives the same list)
        def __iter__(self):
            i = dud.get_worker_info()
            return iter(range(i.id, 3 if i.id == 0 else 11, 2))

    got = [b.tolist() for b in dud.DataLoader(Uneven(), batch_size=2, num_workers=2)]
    assert got == [[0, 2], [1, 3], [5, 7], [9]]


def test_persistent_workers_init_once():
    inits = []
    dl = dud.DataLoader(_DSharded(5), batch_size=2, num_workers=2, persistent_workers=True,
                        worker_init_fn=inits.append)
    e1 = [b.tolist() for b in dl]
    e2 = [b.tolist() for b in dl]
    assert e1 == e2 == [[0, 2], [1, 3], [4]]
    assert inits == [0, 1]
    inits.clear()
    dl = dud.DataLoader(_DSharded(5), batch_size=2, num_workers=2, worker_init_fn=inits.append)
    list(dl)
    list(dl)
    assert inits == [0, 1, 0, 1]


@pytest.mark.slow
def test_iterable_workers_against_torch_processes():
    class TSharded(tud.IterableDataset):
        def __iter__(self):
            info = tud.get_worker_info()
            return iter(range(info.id, 7, info.num_workers))

    t = [b.tolist() for b in tud.DataLoader(TSharded(), batch_size=2, num_workers=2)]
    d = [b.tolist() for b in dud.DataLoader(_DSharded(7), batch_size=2, num_workers=2)]
    assert d == t


def test_dataloader_attribute_guard_and_len():
    dl = dud.DataLoader(_tensor_ds(), batch_size=3)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        dl.batch_size = 4
    assert len(dl) == 4
    it = iter(dl)
    assert len(it) == 4
    next(it)


ERRS = [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(persistent_workers=True), dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(batch_size=0), dict(batch_size=2, drop_last=1),
]


@pytest.mark.parametrize("kw", ERRS, ids=[str(i) for i in range(len(ERRS))])
def test_dataloader_errors_match_torch(kw):
    with pytest.raises(Exception) as et:
        tud.DataLoader(_tensor_ds(lib=torch), **kw)
    with pytest.raises(Exception) as ed:
        dud.DataLoader(_tensor_ds(), **kw)
    assert type(ed.value) is type(et.value)
    assert str(ed.value) == str(et.value)


def test_iterable_dataset_errors_match_torch():
    for kw in [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])]:
        with pytest.raises(ValueError) as et:
            tud.DataLoader(_Range(3), **kw)
        with pytest.raises(ValueError) as ed:
            dud.DataLoader(_DRange(3), **kw)
        assert str(ed.value) == str(et.value)


# ---------------------------------------------------------------------------- samplers
def test_samplers_match_torch():
    assert list(dud.SequentialSampler(range(5))) == list(tud.SequentialSampler(range(5)))
    for n, bs, dl in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (0, 2, False)]:
        t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, dl)
        d = dud.BatchSampler(dud.SequentialSampler(range(n)), bs, dl)
        assert list(d) == list(t) and len(d) == len(t)
    g = dagrad.Generator().manual_seed(1)
    rs = dud.RandomSampler(range(7), generator=g)
    assert len(rs) == 7 and sorted(rs) == list(range(7))
    rs = dud.RandomSampler(range(7), replacement=True, num_samples=70, generator=g)
    s = list(rs)
    assert len(s) == len(rs) == 70 and set(s) <= set(range(7)) and len(set(s)) > 1
    rs = dud.RandomSampler(range(4), num_samples=10, generator=g)
    s = list(rs)
    assert len(s) == 10 and sorted(s[:4]) == list(range(4)) and sorted(s[4:8]) == list(range(4))
    ws = dud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=g)
    s = list(ws)
    assert len(s) == len(ws) == 50 and set(s) <= {1, 3}
    ws = dud.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g)
    assert sorted(ws) == [0, 1, 2]
    ss = dud.SubsetRandomSampler([10, 20, 30, 40], generator=g)
    assert sorted(ss) == [10, 20, 30, 40] and len(ss) == 4


def test_sampler_errors_match_torch():
    cases = [
        (lambda m: m.RandomSampler(range(3), replacement=1)),
        (lambda m: m.RandomSampler(range(3), num_samples=0)),
        (lambda m: m.RandomSampler([], replacement=False)),
        (lambda m: m.WeightedRandomSampler([1.0], 0)),
        (lambda m: m.WeightedRandomSampler([1.0], 2, replacement=None)),
        (lambda m: m.WeightedRandomSampler([[1.0]], 2)),
        (lambda m: m.BatchSampler(range(3), 0, False)),
        (lambda m: m.BatchSampler(range(3), True, False)),
        (lambda m: m.BatchSampler(range(3), 2, None)),
    ]
    for f in cases:
        with pytest.raises(Exception) as et:
            f(tud)
        with pytest.raises(Exception) as ed:
            f(dud)
        assert type(ed.value) is type(et.value)
        assert str(ed.value) == str(et.value)


# ---------------------------------------------------------------------------- datasets
def test_tensor_concat_subset_datasets():
    dd = _tensor_ds(5)
    x, y = dd[2]
    assert x.tolist() == [6.0, 7.0, 8.0] and int(y) == 2 and len(dd) == 5
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        dud.TensorDataset(dagrad.zeros(3), dagrad.zeros(4))
    cat = dd + _tensor_ds(3)
    assert isinstance(cat, dud.ConcatDataset) and len(cat) == 8 and cat.cumulative_sizes == [5, 8]
    assert int(cat[5][1]) == 0 and int(cat[-1][1]) == 2 and int(cat[4][1]) == 4
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset "
                                         "length"):
        cat[-9]
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        dud.ConcatDataset([dd, _DRange(3)])
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        dud.ConcatDataset([])
    sub = dud.Subset(dd, [4, 0])
    assert len(sub) == 2 and int(sub[0][1]) == 4
    assert [int(s[1]) for s in sub.__getitems__([1, 0])] == [0, 4]
    chain = _DRange(2) + _DRange(3)
    assert isinstance(chain, dud.ChainDataset) and list(chain) == [0, 1, 0, 1, 2]
    assert len(chain) == 5
    st = dud.StackDataset(a=dd, b=_tensor_ds(5))
    assert set(st[1]) == {"a", "b"} and len(st) == 5
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement "
                                                  "__getitem__."):
        dud.Dataset()[0]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [0.34, 0.33, 0.33],
                                     [0.1, 0.2, 0.3, 0.4], [10], [1, 1, 8], [0.9, 0.1]])
def test_random_split_sizes_match_torch(lengths):
    n = 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
        ds = dud.random_split(range(n), lengths, generator=dagrad.Generator().manual_seed(0))
    assert [len(s) for s in ds] == [len(s) for s in ts]
    allidx = [i for s in ds for i in s]
    assert sorted(allidx) == list(range(n))
    ds2 = dud.random_split(range(n), lengths, generator=dagrad.Generator().manual_seed(0))
    assert [list(s) for s in ds2] == [list(s) for s in ds]
    assert all(isinstance(s, dud.Subset) for s in ds)


def test_random_split_errors_and_warning():
    for lengths in [[3, 3], [0.5, 0.6], [-0.5, 1.5]]:
        with pytest.raises(ValueError) as et:
            tud.random_split(range(10), lengths)
        with pytest.raises(ValueError) as ed:
            dud.random_split(range(10), lengths)
        assert str(ed.value) == str(et.value)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        dud.random_split(range(3), [1.0, 0.0])
    dagrad.manual_seed(0)
    a = [list(s) for s in dud.random_split(range(6), [3, 3])]
    dagrad.manual_seed(0)
    b = [list(s) for s in dud.random_split(range(6), [3, 3])]
    assert a == b


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                  (2, 5, False), (7, 2, True)])
def test_distributed_sampler_partitions_like_torch(n, replicas, drop_last):
    parts = []
    for rank in range(replicas):
        t = tud.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                   drop_last=drop_last)
        d = dud.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                   drop_last=drop_last)
        assert list(d) == list(t) and len(d) == len(t)
        s = dud.DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=3,
                                   drop_last=drop_last)
        parts.append(list(s))
        assert len(parts[-1]) == len(t)
    flat = [i for p in parts for i in p]
    if drop_last:
        assert len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n))
    s = dud.DistributedSampler(range(n), num_replicas=replicas, rank=0)
    e0 = list(s)
    assert list(s) == e0
    s.set_epoch(1)
    e1 = list(s)
    s2 = dud.DistributedSampler(range(n), num_replicas=replicas, rank=0)
    s2.set_epoch(1)
    assert list(s2) == e1 and len(e1) == len(e0)
    with pytest.raises(ValueError) as et:
        tud.DistributedSampler(range(n), num_replicas=replicas, rank=replicas)
    with pytest.raises(ValueError) as ed:
        dud.DistributedSampler(range(n), num_replicas=replicas, rank=replicas)
    assert str(ed.value) == str(et.value)
