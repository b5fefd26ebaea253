"""dagrad.save / dagrad.load against torch.save / torch.load(weights_only=True)."""
import collections
import copy
import io
import os
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
import torch

import dagrad
from dagrad import serialization as S
from dagrad.nn.parameter import Parameter


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)


def _same(a, b):
    """A dagrad tensor equals a torch tensor: values, shape, dtype name."""
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_array_equal(_np(a), _np(b))


# ------------------------------------------------------------------------- torch -> dagrad
DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128]


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_load_every_native_dtype(tmp_path, dt):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 4, generator=g) * 50).to(dt) if dt != torch.bool else \
        torch.randn(3, 4, generator=g) > 0
    if dt.is_complex:
        x = torch.complex(torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)).to(dt)
    torch.save({"x": x, "s": x[1], "z": torch.zeros(0, dtype=dt), "c": x[0, 0].clone()},
               tmp_path / "a.pth")
    d = dagrad.load(tmp_path / "a.pth")
    for k in ("x", "s", "z", "c"):
        _same(d[k], {"x": x, "s": x[1], "z": torch.zeros(0, dtype=dt), "c": x[0, 0]}[k])


def test_load_state_dict_views_shared_storage_and_metadata(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                            torch.nn.Linear(5, 2))
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"sd": m.state_dict(), "base": base, "view": base[1:3, 2:5], "t": base.t(),
           "strided": base[:, ::2], "nested": [base[0], (base[3], {"deep": base[2, 1:]})],
           "param": torch.nn.Parameter(torch.ones(3)), "frozen": torch.nn.Parameter(
               torch.ones(2), requires_grad=False), "rg": torch.ones(2, requires_grad=True),
           "size": torch.Size([2, 3]), "dtype": torch.float64, "dev": torch.device("cpu"),
           "plain": [1, 2.5, "x", None, True, b"bytes", (1, 2), {3, 4}, 1 + 2j]}
    torch.save(obj, tmp_path / "m.pth")
    d = dagrad.load(tmp_path / "m.pth")
    assert isinstance(d["sd"], collections.OrderedDict)
    assert list(d["sd"].keys()) == list(m.state_dict().keys())
    assert d["sd"]._metadata == m.state_dict()._metadata
    for k, v in m.state_dict().items():
        _same(d["sd"][k], v)
    for k in ("base", "view", "t", "strided"):
        _same(d[k], obj[k])
    assert d["view"].stride() == obj["view"].stride()
    assert d["view"].storage_offset() == obj["view"].storage_offset()
    _same(d["nested"][1][1]["deep"], base[2, 1:])
    # storages stay shared: writing through one view shows in the others
    d["base"][1, 2] = -7.0
    assert d["view"][0, 0].item() == -7.0 and d["t"][2, 1].item() == -7.0
    assert type(d["param"]) is Parameter and d["param"].requires_grad
    assert type(d["frozen"]) is Parameter and not d["frozen"].requires_grad
    assert d["rg"].requires_grad and d["rg"].is_leaf and not d["base"].requires_grad
    assert d["size"] == dagrad.Size([2, 3]) and isinstance(d["size"], dagrad.Size)
    assert d["dtype"] is dagrad.float64 and d["dev"] == dagrad.device("cpu")
    assert d["plain"] == obj["plain"]


def test_load_optimizer_state_dict(tmp_path):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    lin(torch.randn(4, 3)).sum().backward()
    opt.step()
    adam = torch.optim.Adam(lin.parameters(), lr=1e-3)
    adam.step()
    torch.save({"sgd": opt.state_dict(), "adam": adam.state_dict()}, tmp_path / "o.pth")
    d = dagrad.load(tmp_path / "o.pth")
    ref = {"sgd": opt.state_dict(), "adam": adam.state_dict()}
    for name in ("sgd", "adam"):
        assert d[name]["param_groups"] == ref[name]["param_groups"]
        for i, st in ref[name]["state"].items():
            for k, v in st.items():
                if isinstance(v, torch.Tensor):
                    _same(d[name]["state"][i][k], v)
                else:
                    assert d[name]["state"][i][k] == v


def test_any_archive_prefix_and_file_objects(tmp_path):
    x = torch.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    torch.save({"x": x}, buf)           # prefix "archive"
    buf.seek(0)
    _same(dagrad.load(buf)["x"], x)
    torch.save({"x": x}, tmp_path / "my.weird.name.pth")
    _same(dagrad.load(str(tmp_path / "my.weird.name.pth"))["x"], x)
    # re-zip under an unusual folder name
    src = zipfile.ZipFile(tmp_path / "my.weird.name.pth")
    with zipfile.ZipFile(tmp_path / "re.pth", "w") as dst:
        for info in src.infolist():
            dst.writestr("some_other-prefix" + info.filename[info.filename.index("/"):],
                         src.read(info))
    _same(dagrad.load(tmp_path / "re.pth")["x"], x)
    assert dagrad.load(buf.getvalue())["x"].shape == (2, 3)  # bytes accepted


def _to_big_endian(path, out, elsize_by_key):
    src = zipfile.ZipFile(path)
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                key = info.filename.rsplit("/", 1)[1]
                a = np.frombuffer(data, dtype=elsize_by_key[key])
                data = a.byteswap().tobytes()
            dst.writestr(info.filename, data)


def test_big_endian_archive(tmp_path):
    obj = {"f": torch.arange(5.0), "d": torch.arange(3, dtype=torch.float64) / 3,
           "i": torch.arange(4) * 1000, "c": torch.tensor([1 + 2j, 3 - 1j]),
           "h": torch.tensor([1.5, -2.0], dtype=torch.float16)}
    torch.save(obj, tmp_path / "le.pth")
    _to_big_endian(tmp_path / "le.pth", tmp_path / "be.pth",
                   {"0": "<f4", "1": "<f8", "2": "<i8", "3": "<f4", "4": "<f2"})
    d = dagrad.load(tmp_path / "be.pth")
    for k in obj:
        _same(d[k], obj[k])


def test_legacy_non_zip_format(tmp_path):
    x = torch.arange(12.0).reshape(3, 4)
    obj = {"x": x, "v": x[1:, 2:], "i": torch.arange(3), "p": torch.nn.Parameter(torch.ones(2)),
           "sd": torch.nn.Linear(2, 2).state_dict()}
    torch.save(obj, tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    with open(tmp_path / "legacy.pth", "rb") as fh:
        assert not fh.read(4).startswith(b"PK")
    d = dagrad.load(tmp_path / "legacy.pth")
    for k in ("x", "v", "i"):
        _same(d[k], obj[k])
    d["x"][1, 2] = 99.0
    assert d["v"][0, 0].item() == 99.0
    assert type(d["p"]) is Parameter
    for k, v in obj["sd"].items():
        _same(d["sd"][k], v)


def test_float8_uint_conversions_warn(tmp_path):
    vals = torch.tensor([0.5, -3.0, 1.25, 448.0, -0.015625, 0.0])
    obj = {"bf": vals.to(torch.bfloat16), "e4": vals.to(torch.float8_e4m3fn),
           "e5": vals.to(torch.float8_e5m2), "u16": torch.tensor([0, 65535], dtype=torch.uint16),
           "u32": torch.tensor([0, 2**32 - 1], dtype=torch.uint32)}
    torch.save(obj, tmp_path / "bf.pth")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = dagrad.load(tmp_path / "bf.pth")
    msgs = " ".join(str(x.message) for x in w)
    assert "torch.float8_e4m3fn" in msgs and "float32" in msgs and "torch.uint16" in msgs
    assert "bfloat16" not in msgs  # bfloat16 is a real dtype now (tests/test_bfloat16.py)
    assert d["bf"].dtype == dagrad.bfloat16
    np.testing.assert_array_equal(_np(d["bf"].float()), obj["bf"].float().numpy())
    for k in ("e4", "e5"):
        assert d[k].dtype == dagrad.float32
        np.testing.assert_array_equal(_np(d[k]), obj[k].float().numpy())
    assert d["u16"].dtype == dagrad.int32 and d["u16"].tolist() == [0, 65535]
    assert d["u32"].dtype == dagrad.int64 and d["u32"].tolist() == [0, 2**32 - 1]


def test_float8_tables_match_torch():
    codes = torch.arange(256, dtype=torch.uint8)
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"):
        ref = codes.view(getattr(torch, name)).float().numpy()
        np.testing.assert_array_equal(S._float8_table(name), ref)


def test_untyped_storage_v3_rebuild(tmp_path):
    torch.save([torch.tensor([1, 2, 65000], dtype=torch.uint16)], tmp_path / "v3.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = dagrad.load(tmp_path / "v3.pth")
    assert d[0].tolist() == [1, 2, 65000]


def test_batchnorm_state_dict_without_num_batches_tracked():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(3)
    bn.running_mean.uniform_()
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    buf = io.BytesIO()
    torch.save(sd, buf)
    tbn = torch.nn.BatchNorm2d(3)
    tbn.load_state_dict(torch.load(io.BytesIO(buf.getvalue())))
    dbn = dagrad.nn.BatchNorm2d(3)
    dbn.load_state_dict(dagrad.load(io.BytesIO(buf.getvalue())))
    _same(dbn.running_mean, tbn.running_mean)
    _same(dbn.num_batches_tracked, tbn.num_batches_tracked)


# ------------------------------------------------------------------------- dagrad -> torch
def test_save_reads_back_in_torch_identically(tmp_path):
    x = dagrad.arange(24.0).reshape(4, 6)
    sd = collections.OrderedDict(a=x, v=x[1:3, 2:5], t=x.t(), s=x[:, ::2],
                                 i=dagrad.arange(5), b=dagrad.tensor([True, False]),
                                 h=dagrad.tensor([1.5], dtype=dagrad.float16),
                                 c=dagrad.tensor([1 + 2j]), e=dagrad.zeros(0, 3),
                                 scalar=dagrad.tensor(3.25))
    sd._metadata = collections.OrderedDict({"": {"version": 2}})
    obj = {"sd": sd, "p": Parameter(dagrad.ones(2)), "pf": Parameter(dagrad.ones(2), False),
           "rg": dagrad.ones(3, requires_grad=True), "size": dagrad.Size([2, 3]),
           "dt": dagrad.float64, "dev": dagrad.device("cpu"), "plain": [1, "x", (2.5, None)]}
    dagrad.save(obj, tmp_path / "d.pth")
    r = torch.load(tmp_path / "d.pth", weights_only=True)
    for k, v in sd.items():
        _same(v, r["sd"][k])
    assert r["sd"]._metadata == {"": {"version": 2}}
    assert r["sd"]["v"].stride() == (6, 1) and r["sd"]["v"].storage_offset() == 8
    assert r["sd"]["t"].stride() == (1, 6)
    r["sd"]["a"][2, 3] = -1.0      # shared storage survives the round trip
    assert r["sd"]["v"][1, 1].item() == -1.0 and r["sd"]["t"][3, 2].item() == -1.0
    assert type(r["p"]) is torch.nn.Parameter and r["p"].requires_grad
    assert type(r["pf"]) is torch.nn.Parameter and not r["pf"].requires_grad
    assert r["rg"].requires_grad and r["size"] == torch.Size([2, 3])
    assert r["dt"] is torch.float64 and r["dev"] == torch.device("cpu")
    assert r["plain"] == [1, "x", (2.5, None)]
    # and dagrad reads its own file back
    d = dagrad.load(tmp_path / "d.pth")
    for k, v in sd.items():
        _same(v, d["sd"][k])


def test_save_layout_records_alignment_protocol(tmp_path):
    dagrad.save({"w": dagrad.randn(3, 5), "b": dagrad.randn(7)}, tmp_path / "lay.pth")
    z = zipfile.ZipFile(tmp_path / "lay.pth")
    names = z.namelist()
    assert names[0] == "lay/data.pkl"
    for rec in ("lay/byteorder", "lay/version", "lay/.data/serialization_id",
                "lay/.format_version", "lay/.storage_alignment", "lay/data/0", "lay/data/1"):
        assert rec in names
    assert z.read("lay/byteorder") == b"little" and z.read("lay/version") == b"3\n"
    assert z.read("lay/data.pkl")[:2] == b"\x80\x02"
    raw = open(tmp_path / "lay.pth", "rb").read()
    for info in z.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        (n, m) = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
        data_at = info.header_offset + 30 + n + m
        assert data_at % 64 == 0, info.filename


def test_save_module_state_dict_to_torch_module(tmp_path):
    dagrad.manual_seed(0)
    m = dagrad.nn.Sequential(dagrad.nn.Linear(4, 3), dagrad.nn.BatchNorm1d(3))
    dagrad.save(m.state_dict(), tmp_path / "s.pth")
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    t.load_state_dict(torch.load(tmp_path / "s.pth", weights_only=True))
    x = np.random.default_rng(0).random((5, 4), dtype=np.float32)
    t.eval()
    m.eval()
    np.testing.assert_allclose(t(torch.from_numpy(x)).detach().numpy(),
                               _np(m(dagrad.from_numpy(x))), rtol=1e-5, atol=1e-6)


def test_save_to_buffer_and_non_seekable_stream():
    buf = io.BytesIO()
    dagrad.save([dagrad.ones(2)], buf)
    assert zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()[0] == "archive/data.pkl"
    assert torch.load(io.BytesIO(buf.getvalue()))[0].tolist() == [1.0, 1.0]

    class Sink:
        def __init__(self):
            self.parts = []

        def write(self, b):
            self.parts.append(bytes(b))
            return len(b)

        def seekable(self):
            return False

    s = Sink()
    dagrad.save({"a": dagrad.arange(3)}, s)
    assert torch.load(io.BytesIO(b"".join(s.parts)))["a"].tolist() == [0, 1, 2]


# ----------------------------------------------------------------------- malicious pickles
class _Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def _marker_cmds(marker):
    import builtins
    return [
        (os.system, f"touch {marker}"),
        (eval, f"open({str(marker)!r}, 'w').close()"),
        (builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        (__import__, "antigravity_does_not_matter"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_malicious_zip_checkpoint_is_rejected(tmp_path, case):
    marker = tmp_path / "pwned"
    fn, arg = _marker_cmds(marker)[case]
    torch.save({"w": torch.ones(2), "evil": _Evil(fn, arg)}, tmp_path / "evil.pth")
    with pytest.raises(pickle.UnpicklingError) as ei:
        dagrad.load(tmp_path / "evil.pth")
    name = {0: "posix.system", 1: "eval", 2: "exec", 3: "__import__"}[case]
    assert f"GLOBAL {name} was not an allowed global" in str(ei.value)
    assert not marker.exists()


@pytest.mark.parametrize("proto", [0, 2, 4, 5])
def test_malicious_raw_pickle_is_rejected(tmp_path, proto):
    marker = tmp_path / "pwned"
    data = pickle.dumps(_Evil(os.system, f"touch {marker}"), protocol=proto)
    (tmp_path / "evil.pkl").write_bytes(data)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        dagrad.load(tmp_path / "evil.pkl")
    # inside a zip checkpoint as data.pkl too
    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as z:
        z.writestr("evil/data.pkl", data)
        z.writestr("evil/byteorder", "little")
    with pytest.raises(pickle.UnpicklingError, match="system"):
        dagrad.load(tmp_path / "evil.pth")
    assert not marker.exists()


def test_malicious_inst_and_ext_opcodes_rejected(tmp_path):
    marker = tmp_path / "pwned"
    inst = b"(S'touch " + str(marker).encode() + b"'\nios\nsystem\n."
    with zipfile.ZipFile(tmp_path / "inst.pth", "w") as z:
        z.writestr("a/data.pkl", inst)
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        dagrad.load(tmp_path / "inst.pth")
    with zipfile.ZipFile(tmp_path / "ext.pth", "w") as z:
        z.writestr("a/data.pkl", b"\x80\x02\x82\x01.")
    with pytest.raises(pickle.UnpicklingError, match="EXT1"):
        dagrad.load(tmp_path / "ext.pth")
    assert not marker.exists()


def test_module_pickle_needs_weights_only_false(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "mod.pth")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        dagrad.load(tmp_path / "mod.pth")


def test_add_safe_globals(tmp_path):
    torch.save({"c": collections.Counter("aab")}, tmp_path / "c.pth")
    assert dagrad.load(tmp_path / "c.pth")["c"] == collections.Counter("aab")
    data = pickle.dumps(_Point(1, 2), protocol=2)
    (tmp_path / "p.pkl").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "p.pth", "w") as z:
        z.writestr("a/data.pkl", data)
    with pytest.raises(pickle.UnpicklingError, match="_Point"):
        dagrad.load(tmp_path / "p.pth")
    with S.safe_globals([_Point]):
        assert dagrad.load(tmp_path / "p.pth") == _Point(1, 2)
    with pytest.raises(pickle.UnpicklingError):
        dagrad.load(tmp_path / "p.pth")


class _Point(collections.namedtuple("_Point", "x y")):
    pass


# ------------------------------------------------------------------- truncated / corrupted
def test_truncated_and_corrupted_archives(tmp_path):
    torch.save({"w": torch.randn(64, 64)}, tmp_path / "ok.pth")
    raw = (tmp_path / "ok.pth").read_bytes()
    (tmp_path / "trunc.pth").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match="corrupted checkpoint"):
        dagrad.load(tmp_path / "trunc.pth")
    # flip bytes inside the tensor data: the zip CRC catches it
    z = zipfile.ZipFile(tmp_path / "ok.pth")
    info = z.getinfo("ok/data/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bad = bytearray(raw)
    bad[start + 100: start + 110] = b"\xff" * 10
    (tmp_path / "crc.pth").write_bytes(bytes(bad))
    with pytest.raises(RuntimeError, match="corrupted checkpoint"):
        dagrad.load(tmp_path / "crc.pth")
    # a record missing
    with zipfile.ZipFile(tmp_path / "miss.pth", "w") as dst:
        for i in z.infolist():
            if not i.filename.endswith("data/0"):
                dst.writestr(i.filename, z.read(i))
    with pytest.raises(RuntimeError, match="missing"):
        dagrad.load(tmp_path / "miss.pth")
    # the pickle itself cut short
    with zipfile.ZipFile(tmp_path / "pk.pth", "w") as dst:
        for i in z.infolist():
            data = z.read(i)
            dst.writestr(i.filename, data[:-20] if i.filename.endswith("data.pkl") else data)
    with pytest.raises(pickle.UnpicklingError, match="corrupted checkpoint"):
        dagrad.load(tmp_path / "pk.pth")
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(EOFError):
        dagrad.load(tmp_path / "empty.pth")
    (tmp_path / "junk.pth").write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(pickle.UnpicklingError, match="not a torch.save checkpoint"):
        dagrad.load(tmp_path / "junk.pth")
    with pytest.raises(FileNotFoundError):
        dagrad.load(tmp_path / "nope.pth")


def test_tensor_bigger_than_its_storage_is_rejected(tmp_path):
    torch.save({"w": torch.ones(4)}, tmp_path / "ok.pth")
    z = zipfile.ZipFile(tmp_path / "ok.pth")
    pkl = z.read("ok/data.pkl")
    # size (4,) -> (400,): BININT1 4 followed by TUPLE1
    assert b"K\x04\x85" in pkl
    evil = pkl.replace(b"K\x04\x85", b"M\x90\x01\x85", 1)
    with zipfile.ZipFile(tmp_path / "big.pth", "w") as dst:
        for i in z.infolist():
            dst.writestr(i.filename, evil if i.filename.endswith("data.pkl") else z.read(i))
    with pytest.raises(RuntimeError, match="needs 400 elements but its storage"):
        dagrad.load(tmp_path / "big.pth")


# --------------------------------------------------------------------------- safetensors
def test_safetensors_roundtrip_with_the_package(tmp_path):
    from safetensors.numpy import load_file as np_load
    from safetensors.numpy import save_file as np_save
    ts = {"w": dagrad.randn(3, 4), "i": dagrad.arange(5), "b": dagrad.tensor([True, False]),
          "h": dagrad.tensor([1.5], dtype=dagrad.float16)}
    S.save_file(ts, tmp_path / "d.safetensors", metadata={"format": "pt"})
    got = np_load(str(tmp_path / "d.safetensors"))
    for k, v in ts.items():
        np.testing.assert_array_equal(got[k], _np(v))
    np_save({"x": np.arange(6, dtype=np.float64).reshape(2, 3)}, str(tmp_path / "n.safetensors"))
    d = S.load_file(tmp_path / "n.safetensors")
    assert d["x"].dtype == dagrad.float64 and d["x"].tolist() == [[0, 1, 2], [3, 4, 5]]
    from safetensors.torch import save_file as t_save
    t_save({"bf": torch.tensor([1.5, -2.0], dtype=torch.bfloat16)}, str(tmp_path / "b.sft"))
    d = dagrad.load(tmp_path / "b.sft")       # dagrad.load also sniffs safetensors
    assert d["bf"].dtype == dagrad.bfloat16 and d["bf"].tolist() == [1.5, -2.0]
    with pytest.raises(RuntimeError, match="corrupted safetensors"):
        S.load_safetensors(b"\x10\x00\x00\x00\x00\x00\x00\x00{")


# ---------------------------------------------------------------- plain pickle and copies
def test_plain_pickle_copy_and_deepcopy():
    t = dagrad.arange(6.0).reshape(2, 3).requires_grad_()
    p = Parameter(dagrad.ones(2))
    p.extra_attr = "kept"
    for obj in (t, p):
        r = pickle.loads(pickle.dumps(obj))
        assert type(r) is type(obj) and r.requires_grad == obj.requires_grad
        np.testing.assert_array_equal(_np(r), _np(obj))
    assert pickle.loads(pickle.dumps(p)).extra_attr == "kept"
    c = copy.copy(t)
    assert c.requires_grad and c.tolist() == t.tolist()
    d = copy.deepcopy({"p": p, "same": p})
    assert d["p"] is d["same"] and type(d["p"]) is Parameter
    v = t.detach()[1]
    r = pickle.loads(pickle.dumps(v))
    assert r.tolist() == [3.0, 4.0, 5.0]


def test_save_fortran_negative_stride_and_small_views(tmp_path):
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    t = dagrad.from_numpy(a)
    obj = {"t": t, "col": t[:, 1], "flip": dagrad.from_numpy(np.arange(6.0)[::-1]),
           "small": dagrad.from_numpy(np.arange(100.0))[10:12], "sub": t[1:, ::2]}
    dagrad.save(obj, tmp_path / "f.pth")
    r = torch.load(tmp_path / "f.pth", weights_only=True)
    for k, v in obj.items():
        np.testing.assert_array_equal(r[k].numpy(), _np(v))
    assert r["t"].stride() == (1, 3) and r["col"].stride() == (1,)
    r["t"][0, 1] = -5.0                     # F-order storage still shared
    assert r["col"][0].item() == -5.0


def test_whole_module_pickles_need_weights_only_false(tmp_path):
    m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    torch.save(m, tmp_path / "tm.pth")
    dm = dagrad.load(tmp_path / "tm.pth", weights_only=False)     # torch classes -> dagrad's
    assert type(dm).__module__.startswith("dagrad.nn")
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(_np(dm(dagrad.from_numpy(x))), m(torch.from_numpy(x)).detach()
                               .numpy(), rtol=1e-6)
    own = dagrad.nn.Sequential(dagrad.nn.Linear(2, 3))
    dagrad.save(own, tmp_path / "dm.pth")
    with pytest.raises(pickle.UnpicklingError, match="dagrad.nn.modules.container.Sequential"):
        dagrad.load(tmp_path / "dm.pth")
    back = dagrad.load(tmp_path / "dm.pth", weights_only=False)
    np.testing.assert_array_equal(_np(back[0].weight), _np(own[0].weight))


def test_cuda_saved_checkpoint_loads_on_cpu(tmp_path):
    torch.save({"w": torch.arange(4.0)}, tmp_path / "c.pth")
    z = zipfile.ZipFile(tmp_path / "c.pth")
    pkl = z.read("c/data.pkl")
    assert b"X\x03\x00\x00\x00cpu" in pkl
    cuda = pkl.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(tmp_path / "g.pth", "w") as dst:
        for i in z.infolist():
            dst.writestr(i.filename, cuda if i.filename.endswith("data.pkl") else z.read(i))
    d = dagrad.load(tmp_path / "g.pth", map_location="cpu")
    assert d["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and d["w"].device == dagrad.device("cpu")
