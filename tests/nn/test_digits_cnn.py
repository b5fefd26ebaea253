"""End to end: a small CNN trained with dagrad on scikit-learn's digits reaches >= 97% test
accuracy in under a minute."""
import time

import numpy as np
import pytest

import dagrad
import dagrad.nn as nn
import dagrad.nn.functional as F

sklearn = pytest.importorskip("sklearn.datasets")


def test_digits_cnn_reaches_97_percent_quickly():
    optim = pytest.importorskip("dagrad.optim")
    d = sklearn.load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    X, y = X[perm], y[perm]
    n_test = 360
    Xtr, ytr, Xte, yte = X[n_test:], y[n_test:], X[:n_test], y[:n_test]
    mean, std = Xtr.mean(), Xtr.std()
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    dagrad.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
        nn.ReLU(inplace=True), nn.Flatten(), nn.Dropout(0.1), nn.Linear(32 * 16, 10))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    t0 = time.perf_counter()
    bs = 64
    for epoch in range(6):
        model.train()
        order = rng.permutation(len(Xtr))
        for i in range(0, len(order), bs):
            idx = order[i:i + bs]
            xb, yb = dagrad.from_numpy(Xtr[idx]), dagrad.from_numpy(ytr[idx])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with dagrad.no_grad():
        pred = model(dagrad.from_numpy(Xte)).argmax(1).numpy()
    acc = (pred == yte).mean()
    elapsed = time.perf_counter() - t0
    print(f"digits CNN: accuracy {acc:.4f} in {elapsed:.1f} s")
    assert acc >= 0.97, acc
    assert elapsed < 60, elapsed
