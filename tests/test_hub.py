"""dagrad.hub against a local HTTP server on 127.0.0.1 serving files the tests generate."""
import hashlib
import http.server
import io
import os
import socket
import threading

import numpy as np
import pytest
import torch

import dagrad
from dagrad import hub


class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}
    hits = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data), 4096):
            self.wfile.write(data[i:i + 4096])

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Handler.files = {}
    _Handler.hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGRAD_HOME", str(tmp_path / "dagrad_home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    return tmp_path


def _checkpoint():
    torch.manual_seed(0)
    sd = torch.nn.Linear(64, 32).state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    data = buf.getvalue()
    return sd, data, hashlib.sha256(data).hexdigest()


def test_dirs_follow_environment(homes, monkeypatch):
    assert hub.get_dir() == str(homes / "dagrad_home" / "hub")
    monkeypatch.delenv("DAGRAD_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(homes / "xdg"))
    assert hub.get_dir() == str(homes / "xdg" / "dagrad" / "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hub.get_dir() == os.path.expanduser("~/.cache/dagrad/hub")
    hub.set_dir(homes / "custom")
    assert hub.get_dir() == str(homes / "custom")


def test_download_progress_cache_hit_and_values(server, homes, capsys):
    srv, base = server
    sd, data, sha = _checkpoint()
    name = f"linear-{sha[:8]}.pth"
    _Handler.files["/models/" + name] = data
    url = f"{base}/models/{name}"
    got = hub.load_state_dict_from_url(url, check_hash=True, progress=True)
    out = capsys.readouterr()
    cached = homes / "dagrad_home" / "hub" / "checkpoints" / name
    assert f'Downloading: "{url}" to {cached}' in out.out
    assert "100%" in out.err                          # the progress bar reached the end
    assert cached.read_bytes() == data
    assert not [f for f in os.listdir(cached.parent) if f.endswith(".partial")]
    for k, v in sd.items():
        np.testing.assert_array_equal(got[k].numpy(), v.numpy())
    assert _Handler.hits == ["/models/" + name]
    again = hub.load_state_dict_from_url(url, check_hash=True)
    assert _Handler.hits == ["/models/" + name]       # second call: cache hit, no request
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(again["weight"].numpy(), sd["weight"].numpy())


def test_plain_progress_bar_without_tqdm(server, homes, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name == "tqdm" or name.startswith("tqdm."):
            raise ImportError("no tqdm")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    srv, base = server
    _, data, sha = _checkpoint()
    _Handler.files["/w.pth"] = data
    dst = homes / "w.pth"
    hub.download_url_to_file(f"{base}/w.pth", str(dst), progress=True)
    err = capsys.readouterr().err
    assert "100%|" + "#" * 25 + "|" in err
    assert dst.read_bytes() == data


def test_torch_cache_is_reused_without_download(server, homes):
    srv, base = server
    sd, data, sha = _checkpoint()
    tdir = homes / "torch_home" / "hub" / "checkpoints"
    tdir.mkdir(parents=True)
    (tdir / "from-torch-00000000.pth").write_bytes(data)
    got = hub.load_state_dict_from_url(f"{base}/from-torch-00000000.pth", check_hash=True)
    assert _Handler.hits == []                        # used as is, hash not re-checked
    np.testing.assert_array_equal(got["bias"].numpy(), sd["bias"].numpy())
    assert not (homes / "dagrad_home" / "hub" / "checkpoints" / "from-torch-00000000.pth").exists()


def test_hash_mismatch_rejected_and_partial_removed(server, homes):
    srv, base = server
    _, data, sha = _checkpoint()
    _Handler.files["/bad-deadbeef.pth"] = data
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "deadbeef", got "'
                       + sha + '"\\)'):
        hub.load_state_dict_from_url(f"{base}/bad-deadbeef.pth", check_hash=True, progress=False)
    folder = homes / "dagrad_home" / "hub" / "checkpoints"
    assert os.listdir(folder) == []                   # nothing cached, no .partial left
    # without check_hash (torch's default) the same file is accepted
    got = hub.load_state_dict_from_url(f"{base}/bad-deadbeef.pth", progress=False)
    assert set(got) == {"weight", "bias"}


def test_file_name_and_model_dir(server, homes):
    srv, base = server
    _, data, _ = _checkpoint()
    _Handler.files["/x/y.pth"] = data
    got = hub.load_state_dict_from_url(f"{base}/x/y.pth", model_dir=str(homes / "md"),
                                       file_name="renamed.pth", progress=False)
    assert (homes / "md" / "renamed.pth").exists() and set(got) == {"weight", "bias"}


def test_server_down_gives_the_offline_error(homes):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                          # nothing listens there now
    url = f"http://127.0.0.1:{port}/models/resnet18-f37072fd.pth"
    with pytest.raises(RuntimeError) as ei:
        hub.load_state_dict_from_url(url, progress=False)
    msg = str(ei.value)
    expected = homes / "dagrad_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert url in msg and f"place it at {expected}" in msg
    assert str(homes / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in msg
    assert os.listdir(expected.parent) == []


def test_http_404_names_url_and_path(server, homes):
    srv, base = server
    with pytest.raises(RuntimeError, match="HTTP Error 404") as ei:
        hub.load_state_dict_from_url(f"{base}/missing.pth", progress=False)
    assert f"{base}/missing.pth" in str(ei.value)


def test_legacy_single_file_zip(server, homes):
    srv, base = server
    import zipfile
    _, data, _ = _checkpoint()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner.pth", data)
    _Handler.files["/old.zip"] = buf.getvalue()
    got = hub.load_state_dict_from_url(f"{base}/old.zip", progress=False)
    assert set(got) == {"weight", "bias"}


def test_hub_load_not_provided():
    with pytest.raises(NotImplementedError, match="GitHub"):
        hub.load("pytorch/vision", "resnet18")
    assert dagrad.hub is hub
