"""Download / checksum / extraction helpers (torchvision.datasets.utils)."""
import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import zipfile


def calculate_md5(fpath, chunk_size=1024 * 1024):
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3):
    """Download `url` into `root/filename` (kept if already there with the right md5)."""
    from ...hub import download_url_to_file
    root = os.path.expanduser(os.fspath(root))
    if not filename:
        filename = os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print("Using downloaded and verified file: " + fpath)
        return
    print(f"Downloading {url} to {fpath}")
    download_url_to_file(url, fpath, progress=True)
    if not check_integrity(fpath, md5):
        os.remove(fpath)
        raise RuntimeError(f"File not found or corrupted: {fpath} (md5 mismatch for {url}); the "
                           "file was removed.")


def _safe_members(tar, to_path):
    base = os.path.realpath(to_path)
    for m in tar.getmembers():
        target = os.path.realpath(os.path.join(base, m.name))
        if not (target == base or target.startswith(base + os.sep)):
            raise RuntimeError(f"refusing to extract {m.name!r} outside {to_path}")
        if m.issym() or m.islnk():
            raise RuntimeError(f"refusing to extract link {m.name!r}")
        yield m


def extract_archive(from_path, to_path=None, remove_finished=False):
    if to_path is None:
        to_path = os.path.dirname(from_path)
    if from_path.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        with tarfile.open(from_path) as tar:
            tar.extractall(to_path, members=list(_safe_members(tar, to_path)))
        out = to_path
    elif from_path.endswith(".zip"):
        with zipfile.ZipFile(from_path) as z:
            for n in z.namelist():
                t = os.path.realpath(os.path.join(to_path, n))
                if not t.startswith(os.path.realpath(to_path) + os.sep):
                    raise RuntimeError(f"refusing to extract {n!r} outside {to_path}")
            z.extractall(to_path)
        out = to_path
    else:
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
            os.path.splitext(from_path)[1])
        if opener is None:
            raise RuntimeError(f"Unknown compression or archive type: '{from_path}'")
        out = os.path.join(to_path, os.path.basename(os.path.splitext(from_path)[0]))
        with opener(from_path, "rb") as rf, open(out, "wb") as wf:
            shutil.copyfileobj(rf, wf)
    if remove_finished:
        os.remove(from_path)
    return out


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    download_root = os.path.expanduser(os.fspath(download_root))
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)
