"""dagrad.vision.datasets: ImageFolder on generated images; MNIST / CIFAR10 downloaded from a
local HTTP server on 127.0.0.1 serving files generated here, with md5 verification."""
import gzip
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

import dagrad
from dagrad.vision import datasets, transforms


class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):  # noqa: N802
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture()
def server():
    _Handler.files = {}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _md5(b):
    return hashlib.md5(b).hexdigest()


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("cat", 2), ("dog", 3)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.fromarray((rng.random((8, 9, 3)) * 255).astype(np.uint8)).save(
                tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and ds.targets == [0, 0, 1, 1, 1]
    img, target = ds[3]
    assert tuple(img.shape) == (3, 8, 9) and target == 1
    ref = np.asarray(Image.open(tmp_path / "dog" / "1.png").convert("RGB"))
    np.testing.assert_allclose(np.asarray(img._data), ref.transpose(2, 0, 1) / 255, rtol=1e-6)
    assert ds.imgs == ds.samples
    assert "Number of datapoints: 5" in repr(ds)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(str(tmp_path))
    assert len(datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 5
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path / "cat"))


def _idx(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    head = (0x0800 + arr.ndim).to_bytes(4, "big") + b"".join(
        int(s).to_bytes(4, "big") for s in arr.shape)
    return gzip.compress(head + arr.tobytes())


def _mnist_files():
    rng = np.random.default_rng(1)
    tr_x = (rng.random((6, 28, 28)) * 255).astype(np.uint8)
    tr_y = np.array([3, 1, 4, 1, 5, 9], np.uint8)
    te_x = (rng.random((2, 28, 28)) * 255).astype(np.uint8)
    te_y = np.array([2, 7], np.uint8)
    return {"train-images-idx3-ubyte.gz": (_idx(tr_x), tr_x),
            "train-labels-idx1-ubyte.gz": (_idx(tr_y), tr_y),
            "t10k-images-idx3-ubyte.gz": (_idx(te_x), te_x),
            "t10k-labels-idx1-ubyte.gz": (_idx(te_y), te_y)}


def test_mnist_download_verify_and_read(server, tmp_path, capsys):
    files = _mnist_files()
    for name, (data, _) in files.items():
        _Handler.files["/good/" + name] = data

    class LocalMNIST(datasets.MNIST):
        mirrors = [server + "/down/", server + "/good/"]   # first mirror 404s
        resources = [(n, _md5(d)) for n, (d, _) in files.items()]

    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True"):
        LocalMNIST(str(tmp_path))
    ds = LocalMNIST(str(tmp_path), train=True, download=True)
    assert "Failed to download (trying next)" in capsys.readouterr().err
    assert len(ds) == 6 and ds.data.dtype == dagrad.uint8 and ds.targets.dtype == dagrad.int64
    assert ds.targets.tolist() == [3, 1, 4, 1, 5, 9]
    img, target = ds[2]
    assert isinstance(img, Image.Image) and img.mode == "L" and target == 4
    np.testing.assert_array_equal(np.asarray(img), files["train-images-idx3-ubyte.gz"][1][2])
    assert os.path.exists(tmp_path / "LocalMNIST" / "raw" / "train-images-idx3-ubyte")
    test = LocalMNIST(str(tmp_path), train=False, transform=transforms.ToTensor())
    x, y = test[1]
    assert tuple(x.shape) == (1, 28, 28) and y == 7
    assert "Split: Test" in repr(test)


def test_mnist_md5_mismatch_is_rejected(server, tmp_path):
    files = _mnist_files()
    for name, (data, _) in files.items():
        _Handler.files["/m/" + name] = data

    class BadMNIST(datasets.MNIST):
        mirrors = [server + "/m/"]
        resources = [(n, "0" * 32) for n in files]

    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        BadMNIST(str(tmp_path), download=True)
    assert not os.path.exists(tmp_path / "BadMNIST" / "raw" / "train-images-idx3-ubyte.gz")


def _cifar_tar():
    rng = np.random.default_rng(2)
    members, md5s, arrays = {}, {}, {}
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                 "data_batch_5", "test_batch"]:
        data = (rng.random((4, 3072)) * 255).astype(np.uint8)
        labels = rng.integers(0, 10, 4).tolist()
        blob = pickle.dumps({"batch_label": name, "labels": labels, "data": data}, protocol=2)
        members[name] = blob
        md5s[name] = _md5(blob)
        arrays[name] = (data, labels)
    meta = pickle.dumps({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                         "frog", "horse", "ship", "truck"]}, protocol=2)
    members["batches.meta"] = meta
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo("cifar-10-batches-py/" + name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue(), md5s, _md5(meta), arrays


def test_cifar10_download_verify_and_read(server, tmp_path, capsys):
    tgz, md5s, meta_md5, arrays = _cifar_tar()
    _Handler.files["/cifar-10-python.tar.gz"] = tgz

    class LocalCIFAR(datasets.CIFAR10):
        url = server + "/cifar-10-python.tar.gz"
        tgz_md5 = _md5(tgz)
        train_list = [[n, md5s[n]] for n in ["data_batch_1", "data_batch_2", "data_batch_3",
                                             "data_batch_4", "data_batch_5"]]
        test_list = [["test_batch", md5s["test_batch"]]]
        meta = {"filename": "batches.meta", "key": "label_names", "md5": meta_md5}

    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        LocalCIFAR(str(tmp_path))
    ds = LocalCIFAR(str(tmp_path), download=True)
    assert len(ds) == 20 and ds.data.shape == (20, 32, 32, 3)
    assert ds.classes[3] == "cat" and ds.class_to_idx["truck"] == 9
    img, target = ds[5]
    ref = arrays["data_batch_2"][0][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), ref)
    assert target == arrays["data_batch_2"][1][1]
    LocalCIFAR(str(tmp_path), download=True)
    assert "Files already downloaded and verified" in capsys.readouterr().out
    te = LocalCIFAR(str(tmp_path), train=False, transform=transforms.ToTensor())
    assert len(te) == 4 and tuple(te[0][0].shape) == (3, 32, 32)
    # a tampered batch fails the md5 check
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "ab") as f:
        f.write(b"x")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        LocalCIFAR(str(tmp_path), train=False)


def test_cifar_batch_pickles_cannot_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    p = tmp_path / "batch"
    p.write_bytes(pickle.dumps({"data": Evil()}))
    from dagrad.vision.datasets.cifar import _load_batch
    with pytest.raises(pickle.UnpicklingError, match="system"):
        _load_batch(str(p))
    assert not (tmp_path / "pwned").exists()
