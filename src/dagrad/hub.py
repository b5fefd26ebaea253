"""dagrad.hub: download and cache checkpoints (torch.hub's weights half).

Cache: `$DAGRAD_HOME/hub/checkpoints` (DAGRAD_HOME defaults to `$XDG_CACHE_HOME/dagrad`, i.e.
`~/.cache/dagrad`). A file already in PyTorch's cache (`$TORCH_HOME/hub/checkpoints`, TORCH_HOME
defaulting to `~/.cache/torch`) is used as is, so weights downloaded once by PyTorch are not
fetched again. Downloads go to a temporary `*.partial` file in the cache folder that is renamed
into place only when complete and (with `check_hash=True`) when its sha256 starts with the hex
prefix in the file name (`resnet18-f37072fd.pth` -> `f37072fd`), as torch.hub does.

Differences from torch.hub: `load`, `list` and `help` (which run code from GitHub repositories)
are not provided, and `load_state_dict_from_url` loads with `weights_only=True` by default.
"""
import hashlib
import os
import re
import sys
import uuid
import warnings
import zipfile
from urllib.parse import urlparse

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url",
           "HASH_REGEX", "DownloadError"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_DAGRAD_HOME = "DAGRAD_HOME"
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
READ_DATA_CHUNK = 128 * 1024
_hub_dir = None


class DownloadError(RuntimeError):
    """A download failed (offline, server error, hash mismatch)."""


def _get_dagrad_home():
    return os.path.expanduser(os.getenv(
        ENV_DAGRAD_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "dagrad")))


def _get_torch_home():
    return os.path.expanduser(os.getenv(
        ENV_TORCH_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch")))


def get_dir():
    """The hub folder: set_dir()'s value, else `$DAGRAD_HOME/hub`."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_dagrad_home(), "hub")


def set_dir(d):
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _torch_checkpoints_dir():
    return os.path.join(_get_torch_home(), "hub", "checkpoints")


class _PlainBar:
    """A progress bar on stderr for when tqdm is not installed."""

    def __init__(self, total, disable):
        self.total, self.disable, self.n, self._last = total, disable, 0, -1

    def __enter__(self):
        return self

    def update(self, k):
        self.n += k
        if self.disable:
            return
        if self.total:
            pct = int(100 * self.n / self.total)
            if pct != self._last:
                self._last = pct
                filled = pct // 4
                sys.stderr.write(f"\r{pct:3d}%|{'#' * filled}{' ' * (25 - filled)}| "
                                 f"{_fmt(self.n)}/{_fmt(self.total)}")
                sys.stderr.flush()
        else:
            sys.stderr.write(f"\r{_fmt(self.n)}")
            sys.stderr.flush()

    def __exit__(self, *exc):
        if not self.disable:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _fmt(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f}{unit}" if unit != "B" else f"{n}B"
        n /= 1024.0
    return f"{n}B"  # pragma: no cover


def _progress_bar(total, disable):
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total, disable)
    return tqdm(total=total, disable=disable, unit="B", unit_scale=True, unit_divisor=1024)


def _offline_message(url, dst, reason):
    torch_dst = os.path.join(_torch_checkpoints_dir(), os.path.basename(dst))
    return (f'Could not download "{url}": {reason}. If this machine is offline, download the '
            f"file elsewhere and place it at {dst} (or at {torch_dst}, PyTorch's cache, which "
            "dagrad also reads); it will then be used without a download.")


def download_url_to_file(url, dst, hash_prefix=None, progress=True, timeout=30):
    """Download `url` to `dst` through a temporary file renamed into place when complete."""
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    tmp = dst + "." + uuid.uuid4().hex + ".partial"
    f = open(tmp, "w+b")  # noqa: SIM115
    try:
        req = Request(url, headers={"User-Agent": "dagrad.hub"})
        try:
            u = urlopen(req, timeout=timeout)
        except HTTPError as e:
            raise DownloadError(_offline_message(url, dst, f"HTTP Error {e.code}: {e.reason}")) \
                from None
        except (URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise DownloadError(_offline_message(url, dst, f"{reason}")) from None
        with u:
            length = u.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            sha = hashlib.sha256() if hash_prefix is not None else None
            got = 0
            with _progress_bar(total, not progress) as bar:
                while True:
                    try:
                        buf = u.read(READ_DATA_CHUNK)
                    except OSError as e:
                        raise DownloadError(_offline_message(
                            url, dst, f"the connection broke after {got} bytes ({e})")) from None
                    if not buf:
                        break
                    f.write(buf)
                    got += len(buf)
                    if sha is not None:
                        sha.update(buf)
                    bar.update(len(buf))
        f.close()
        if total is not None and got != total:
            raise DownloadError(_offline_message(
                url, dst, f"the download is incomplete ({got} of {total} bytes)"))
        if sha is not None:
            digest = sha.hexdigest()
            if digest[: len(hash_prefix)] != hash_prefix:
                raise DownloadError(
                    f'invalid hash value (expected "{hash_prefix}", got "{digest}") for {url}; '
                    "the downloaded file was removed")
        os.replace(tmp, dst)
    finally:
        f.close()
        if os.path.exists(tmp):
            os.remove(tmp)


def _is_legacy_zip_format(filename):
    if zipfile.is_zipfile(filename):
        infolist = zipfile.ZipFile(filename).infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _legacy_zip_load(filename, model_dir, map_location, weights_only):
    from .serialization import load
    with zipfile.ZipFile(filename) as f:
        members = f.infolist()
        if len(members) != 1:
            raise RuntimeError("Only one file(not dir) is allowed in the zipfile")
        f.extractall(model_dir)
        extracted = os.path.join(model_dir, members[0].filename)
    return load(extracted, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=True):
    """torch.hub.load_state_dict_from_url with dagrad's cache (see the module docstring)."""
    from .serialization import load
    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead",
                      stacklevel=2)
    filename = os.path.basename(urlparse(url).path)
    if file_name is not None:
        filename = file_name
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
        candidates = [os.path.join(model_dir, filename),
                      os.path.join(_torch_checkpoints_dir(), filename)]
    else:
        model_dir = os.path.expanduser(os.fspath(model_dir))
        candidates = [os.path.join(model_dir, filename)]
    cached_file = next((c for c in candidates if os.path.exists(c)), None)
    if cached_file is None:
        cached_file = candidates[0]
        os.makedirs(model_dir, exist_ok=True)
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            r = HASH_REGEX.search(filename)
            hash_prefix = r.group(1) if r else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file) and not _is_torch_zip(cached_file):
        return _legacy_zip_load(cached_file, os.path.dirname(cached_file), map_location,
                                weights_only)
    return load(cached_file, map_location=map_location, weights_only=weights_only)


def _is_torch_zip(filename):
    with zipfile.ZipFile(filename) as z:
        return any(n.endswith("data.pkl") for n in z.namelist())


def load(*args, **kwargs):
    raise NotImplementedError(
        "dagrad.hub.load runs code from GitHub repositories and is not provided; use "
        "dagrad.vision.models or load_state_dict_from_url")


def list(*args, **kwargs):  # noqa: A001
    raise NotImplementedError("dagrad.hub.list is not provided (see dagrad.hub.load)")


def help(*args, **kwargs):  # noqa: A001
    raise NotImplementedError("dagrad.hub.help is not provided (see dagrad.hub.load)")


