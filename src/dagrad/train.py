"""`dagrad train`: train one of dagrad's models on a small image data set, with checkpoints.

    dagrad train --model mlp --data digits --epochs 5 --save ckpt.pth
    dagrad train --model cnn --data folder path/to/images --epochs 3 --save cnn.pth
    dagrad train --model mlp --data digits --epochs 10 --save ckpt.pth --resume

Data: `digits` is scikit-learn's 8x8 digits (no download; 80/20 train/validation split), and
`folder PATH` an ImageFolder tree (PATH/class/img.png; PATH/train and PATH/val when both exist,
else an 80/20 split). Each epoch shows a progress bar (tqdm when installed), then validation loss
and accuracy. With --save, a checkpoint is written after every epoch, atomically (a temporary
file in the same folder, then os.replace): model and optimizer state, epochs done, RNG state and
the history. It is a PyTorch checkpoint: `torch.load(path, weights_only=True)` reads it.
--resume continues from it; the batches of epoch e are drawn from a generator seeded with
(seed, e), so a resumed run has exactly the losses of an uninterrupted one.
"""
import argparse
import os
import sys
import tempfile
import time

MODELS = ("mlp", "cnn", "resnet18")


class UsageError(Exception):
    """A bad argument or a missing data set; reported as `dagrad train: ...`, exit status 2."""


# ----------------------------------------------------------------------------- data
def _digits(image_size, channels):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError("--data digits needs scikit-learn (pip install scikit-learn)") from None
    import numpy as np
    d = load_digits()
    X = d.images.astype(np.float32) / 16.0
    y = d.target.astype(np.int64)
    if image_size != 8:
        if image_size % 8:
            raise UsageError(f"--image-size for digits must be a multiple of 8, got {image_size}")
        f = image_size // 8
        X = X.repeat(f, axis=1).repeat(f, axis=2)
    X = (X - 0.5) / 0.5
    X = np.repeat(X[:, None], channels, axis=1)
    idx = np.random.default_rng(0).permutation(len(X))
    n_val = len(X) // 5
    va, tr = idx[:n_val], idx[n_val:]
    return (X[tr], y[tr]), (X[va], y[va]), [str(i) for i in range(10)]


def _folder(path, image_size):
    import numpy as np
    if not os.path.isdir(path):
        raise UsageError(f"dataset folder not found: {path}")
    try:
        from .vision.datasets import ImageFolder
    except ImportError as e:
        raise UsageError(f"--data folder needs dagrad.vision.datasets ({e})") from None
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("--data folder needs Pillow (pip install pillow)") from None

    def load(root):
        try:
            ds = ImageFolder(root)
        except (FileNotFoundError, RuntimeError) as e:
            raise UsageError(f"no images found in {root}: {e}") from None
        xs, ys = [], []
        for p, c in ds.samples:
            with Image.open(p) as im:
                im = im.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
                xs.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            ys.append(c)
        X = (np.stack(xs) - 0.5) / 0.5
        return X.astype(np.float32), np.asarray(ys, np.int64), list(ds.classes)

    tr_dir, va_dir = os.path.join(path, "train"), os.path.join(path, "val")
    if os.path.isdir(tr_dir) and os.path.isdir(va_dir):
        Xtr, ytr, classes = load(tr_dir)
        Xva, yva, cva = load(va_dir)
        if cva != classes:
            raise UsageError(f"{va_dir} has classes {cva}, {tr_dir} has {classes}")
        return (Xtr, ytr), (Xva, yva), classes
    X, y, classes = load(path)
    idx = np.random.default_rng(0).permutation(len(X))
    n_val = max(1, len(X) // 5) if len(X) > 1 else 0
    va, tr = idx[:n_val], idx[n_val:]
    return (X[tr], y[tr]), (X[va], y[va]), classes


# ----------------------------------------------------------------------------- models
def build_model(name, channels, image_size, num_classes):
    import dagrad.nn as nn
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(channels * image_size * image_size, 128),
                             nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, num_classes))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.BatchNorm2d(16),
                             nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))
    if name == "resnet18":
        from .vision.models import resnet18
        return resnet18(num_classes=num_classes)
    raise UsageError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(obj, path):
    """dagrad.save into a temporary file beside `path`, then os.replace: never a torn file."""
    import dagrad
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            dagrad.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _progress(it, total, desc, enabled):
    if not enabled:
        return it
    try:
        from tqdm import tqdm
        return tqdm(it, total=total, desc=desc, leave=False, file=sys.stderr, ncols=90,
                    mininterval=0.5)
    except ImportError:
        return it


# ----------------------------------------------------------------------------- training
def train(args, out=None):
    """Run training; returns the history dict. Raises UsageError for bad input."""
    import dagrad
    import dagrad.nn.functional as F
    out = out or sys.stdout

    def say(*a):
        print(*a, file=out, flush=True)

    if args.epochs < 0:
        raise UsageError(f"--epochs must be >= 0, got {args.epochs}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    resume = args.resume
    if resume is True:
        if not args.save:
            raise UsageError("--resume without a path needs --save (the checkpoint to resume)")
        resume = args.save
    if resume and not os.path.exists(resume):
        raise UsageError(f"checkpoint to resume not found: {resume}")

    kind, path = args.data[0], (args.data[1] if len(args.data) > 1 else None)
    if kind not in ("digits", "folder"):
        if len(args.data) == 1 and os.path.sep in kind or os.path.isdir(kind):
            kind, path = "folder", kind       # `--data PATH` means a folder
        else:
            raise UsageError(f"--data must be 'digits' or 'folder PATH', got {' '.join(args.data)}")
    if kind == "folder" and not path:
        raise UsageError("--data folder needs a PATH")
    if len(args.data) > (2 if kind == "folder" else 1):
        raise UsageError(f"--data takes 'digits' or 'folder PATH', got {' '.join(args.data)}")
    size = args.image_size or (32 if args.model == "resnet18" or kind == "folder" else 8)
    channels = 3 if args.model == "resnet18" or kind == "folder" else 1
    if args.model == "resnet18" and size < 32:
        raise UsageError(f"resnet18 needs --image-size >= 32, got {size}")
    if kind == "digits":
        (Xtr, ytr), (Xva, yva), classes = _digits(size, channels)
        dname = "digits (scikit-learn)"
    else:
        (Xtr, ytr), (Xva, yva), classes = _folder(path, size)
        dname = f"folder {path}"
    if args.limit:
        Xtr, ytr = Xtr[:args.limit], ytr[:args.limit]
        Xva, yva = Xva[:max(1, args.limit // 4)], yva[:max(1, args.limit // 4)]
    if len(Xtr) == 0:
        raise UsageError(f"no training images in {dname}")

    dagrad.manual_seed(args.seed)
    model = build_model(args.model, channels, size, len(classes))
    opt = dagrad.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                           weight_decay=args.weight_decay)
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "batch_loss": []}
    start = 0
    if resume:
        ck = dagrad.load(resume, weights_only=True)
        saved = ck.get("args", {})
        if saved.get("model") != args.model:
            raise UsageError(f"{resume} holds a {saved.get('model')!r} model, not {args.model!r}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        start = int(ck["epoch"])
        dagrad.set_rng_state(ck["rng_state"])
        history = {k: list(v) for k, v in ck["history"].items()}
        say(f"resumed from {resume}: {start} epoch(s) done")

    n_tr = sum(p.numel() for p in model.parameters() if p.requires_grad)
    say(f"model {args.model} ({n_tr:,} parameters), data {dname}: {len(Xtr)} train / "
        f"{len(Xva)} validation images, {channels}x{size}x{size}, {len(classes)} classes")
    Xtr_t, ytr_t = dagrad.from_numpy(Xtr), dagrad.from_numpy(ytr)
    Xva_t, yva_t = dagrad.from_numpy(Xva), dagrad.from_numpy(yva)
    bs = args.batch_size
    nb = (len(Xtr) + bs - 1) // bs
    for epoch in range(start, args.epochs):
        t0 = time.perf_counter()
        gen = dagrad.Generator().manual_seed(args.seed * 100003 + epoch)
        perm = dagrad.randperm(len(Xtr), generator=gen)
        model.train()
        tot, cnt = 0.0, 0
        bar = _progress(range(nb), nb, f"epoch {epoch + 1}/{args.epochs}", not args.no_progress)
        for i in bar:
            idx = perm[i * bs:(i + 1) * bs]
            xb, yb = Xtr_t[idx], ytr_t[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            lv = loss.item()
            history["batch_loss"].append(lv)
            tot += lv * len(yb)
            cnt += len(yb)
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(f"loss {lv:.4f}")
        vl, va = evaluate(model, Xva_t, yva_t, bs)
        history["train_loss"].append(tot / cnt)
        history["val_loss"].append(vl)
        history["val_acc"].append(va)
        say(f"epoch {epoch + 1}/{args.epochs}: train loss {tot / cnt:.6f}  val loss {vl:.6f}  "
            f"val accuracy {va * 100:.2f}%  ({time.perf_counter() - t0:.1f} s)")
        if args.save:
            save_checkpoint({
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "epoch": epoch + 1,
                "rng_state": dagrad.get_rng_state(),
                "args": {"model": args.model, "data": kind, "path": path or "",
                         "image_size": size, "channels": channels, "lr": args.lr,
                         "momentum": args.momentum, "weight_decay": args.weight_decay,
                         "batch_size": bs, "seed": args.seed},
                "classes": list(classes),
                "history": history,
            }, args.save)
    if start >= args.epochs and resume:
        say(f"{resume} already has {start} epoch(s) (--epochs {args.epochs}): nothing to train")
    vl, va = evaluate(model, Xva_t, yva_t, bs)
    history["final_val_acc"] = va
    say(f"final validation accuracy: {va * 100:.2f}% (loss {vl:.6f})"
        + (f"; checkpoint {args.save}" if args.save else ""))
    return history


def evaluate(model, X, y, bs):
    import dagrad
    import dagrad.nn.functional as F
    if len(X) == 0:
        return float("nan"), float("nan")
    model.eval()
    tot, correct = 0.0, 0
    with dagrad.no_grad():
        for i in range(0, len(X), bs):
            out = model(X[i:i + bs])
            yb = y[i:i + bs]
            tot += F.cross_entropy(out, yb, reduction="sum").item()
            correct += int((out.argmax(1) == yb).sum().item())
    return tot / len(X), correct / len(X)


# ----------------------------------------------------------------------------- CLI
def add_arguments(p):
    p.add_argument("--model", choices=MODELS, default="mlp")
    p.add_argument("--data", nargs="+", default=["digits"], metavar=("digits|folder", "PATH"),
                   help="'digits' (scikit-learn) or 'folder PATH' (an ImageFolder tree)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--image-size", type=int, default=None,
                   help="side of the square input (default: 8 for mlp/cnn on digits, else 32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--save", metavar="CKPT", help="checkpoint written after every epoch")
    p.add_argument("--resume", nargs="?", const=True, default=None, metavar="CKPT",
                   help="continue from CKPT (default: the --save file)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a model (mlp, cnn, resnet18) with checkpoints",
                              description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(fn=main)
    return p


def main(args):
    if isinstance(args, (list, tuple)) or args is None:
        args = add_arguments(argparse.ArgumentParser(prog="dagrad train")).parse_args(args)
    try:
        train(args)
    except UsageError as e:
        print(f"dagrad train: {e}", file=sys.stderr)
        return 2
    return 0
