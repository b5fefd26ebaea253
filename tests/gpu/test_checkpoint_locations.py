"""Storage locations in checkpoints (runs without a GPU): a storage saved from 'cuda:0' needs
map_location on a CPU-only machine (PyTorch's RuntimeError otherwise), map_location takes a
device, a {'from': 'to'} dict or a callable (storage, location); torch's own files agree."""
import io
import zipfile

import numpy as np
import pytest

import dagrad
from dagrad.backend import has_cuda


def _cuda_located(tmp_path, obj):
    """A dagrad checkpoint of obj whose storages claim location 'cuda:0' (as a GPU save)."""
    dagrad.save(obj, tmp_path / "c.pth")
    z = zipfile.ZipFile(tmp_path / "c.pth")
    pkl_name = next(n for n in z.namelist() if n.endswith("data.pkl"))
    pkl = z.read(pkl_name)
    assert b"X\x03\x00\x00\x00cpu" in pkl
    cuda = pkl.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(tmp_path / "g.pth", "w") as dst:
        for i in z.infolist():
            dst.writestr(i.filename, cuda if i.filename == pkl_name else z.read(i))
    return tmp_path / "g.pth"


@pytest.mark.skipif(has_cuda(), reason="the CPU-only behaviour")
def test_cuda_checkpoint_on_cpu_only_machine_needs_map_location(tmp_path):
    p = _cuda_located(tmp_path, {"w": dagrad.arange(4.0)})
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        dagrad.load(p)
    for loc in ("cpu", dagrad.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s,
                lambda s, loc: "cpu"):
        d = dagrad.load(p, map_location=loc)
        assert d["w"].device.type == "cpu" and d["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    seen = []
    dagrad.load(p, map_location=lambda s, loc: seen.append(loc))
    assert seen == ["cuda:0"]


def test_cpu_checkpoint_locations_and_map_location(tmp_path):
    sd = {"w": dagrad.nn.Parameter(dagrad.ones(2, 3)), "b": dagrad.arange(3)}
    buf = io.BytesIO()
    dagrad.save(sd, buf)
    seen = []
    buf.seek(0)
    back = dagrad.load(buf, map_location=lambda s, loc: (seen.append(loc), s)[1])
    assert seen == ["cpu", "cpu"] and type(back["w"]).__name__ == "Parameter"
    assert back["w"].requires_grad and back["b"].dtype == dagrad.int64
    buf.seek(0)
    back = dagrad.load(buf, map_location={"cuda:0": "cpu"})
    np.testing.assert_array_equal(back["w"].detach().numpy(), np.ones((2, 3), np.float32))


def test_torch_reads_a_cuda_located_dagrad_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    p = _cuda_located(tmp_path, {"w": dagrad.arange(3.0)})
    got = torch.load(p, map_location="cpu", weights_only=True)
    assert got["w"].tolist() == [0.0, 1.0, 2.0]
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA"):
            torch.load(p, weights_only=True)
