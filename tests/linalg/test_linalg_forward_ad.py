"""Forward-mode AD (JVP) of torch.linalg ops against torch.autograd.forward_ad, plus central
finite differences where PyTorch has no forward derivative (cdist)."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfa

import dagrad
import dagrad.autograd.forward_ad as dfa

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
dA = rng.standard_normal((3, 3))
S = A @ A.T
dS = dA + dA.T
B = rng.standard_normal((3, 2))
dB = rng.standard_normal((3, 2))
W = rng.standard_normal((4, 3))
dW = rng.standard_normal((4, 3))
W2 = rng.standard_normal((3, 5))
dW2 = rng.standard_normal((3, 5))
Ab = np.stack([A, A.T + np.eye(3)])
dAb = np.stack([dA, -dA])

CASES = [
    ("inv", lambda L, a: L.linalg.inv(a), [(A, dA)]),
    ("inv_batched", lambda L, a: L.linalg.inv(a), [(Ab, dAb)]),
    ("inverse", lambda L, a: L.inverse(a), [(A, dA)]),
    ("tensor_inverse", lambda L, a: a.inverse(), [(A, dA)]),
    ("det", lambda L, a: L.linalg.det(a), [(Ab, dAb)]),
    ("det_top", lambda L, a: L.det(a), [(A, dA)]),
    ("slogdet", lambda L, a: L.linalg.slogdet(a)[1], [(A, dA)]),
    ("logdet", lambda L, a: L.logdet(a), [(S, dS)]),
    ("solve", lambda L, a, b: L.linalg.solve(a, b), [(A, dA), (B, dB)]),
    ("solve_vec", lambda L, a, b: L.linalg.solve(a, b), [(A, dA), (B[:, 0].copy(),
                                                                  dB[:, 0].copy())]),
    ("solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False), [(A, dA), (B.T.copy(),
                                                                                dB.T.copy())]),
    ("solve_triangular", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
     [(A, dA), (B, dB)]),
    ("solve_triangular_unit_right", lambda L, a, b: L.linalg.solve_triangular(
        a, b, upper=False, left=False, unitriangular=True), [(A, dA), (B.T.copy(), dB.T.copy())]),
    ("cholesky", lambda L, a: L.linalg.cholesky(a), [(S, dS)]),
    ("cholesky_upper", lambda L, a: L.linalg.cholesky(a, upper=True), [(S, dS)]),
    ("cholesky_solve", lambda L, a, b: L.cholesky_solve(b, L.linalg.cholesky(a)),
     [(S, dS), (B, dB)]),
    ("eigh_values", lambda L, a: L.linalg.eigh(a)[0], [(S, dS)]),
    ("eigh_vectors_sq", lambda L, a: L.linalg.eigh(a)[1] ** 2, [(S, dS)]),
    ("eigvalsh", lambda L, a: L.linalg.eigvalsh(a), [(S, dS)]),
    ("svdvals", lambda L, a: L.linalg.svdvals(a), [(W, dW)]),
    ("svd_S", lambda L, a: L.linalg.svd(a, full_matrices=False)[1], [(W, dW)]),
    ("svd_U_sq_tall", lambda L, a: L.linalg.svd(a, full_matrices=False)[0] ** 2, [(W, dW)]),
    ("svd_Vh_sq_tall", lambda L, a: L.linalg.svd(a, full_matrices=False)[2] ** 2, [(W, dW)]),
    ("svd_U_sq_wide", lambda L, a: L.linalg.svd(a, full_matrices=False)[0] ** 2, [(W2, dW2)]),
    ("svd_Vh_sq_wide", lambda L, a: L.linalg.svd(a, full_matrices=False)[2] ** 2, [(W2, dW2)]),
    ("svd_square_full", lambda L, a: L.linalg.svd(a)[2] ** 2, [(A, dA)]),
    ("qr_Q", lambda L, a: L.linalg.qr(a)[0], [(W, dW)]),
    ("qr_R", lambda L, a: L.linalg.qr(a)[1], [(W, dW)]),
    ("qr_square_Q", lambda L, a: L.linalg.qr(a)[0], [(A, dA)]),
    ("matrix_norm_nuc", lambda L, a: L.linalg.matrix_norm(a, "nuc"), [(W, dW)]),
    ("matrix_norm_fro", lambda L, a: L.linalg.matrix_norm(a), [(W, dW)]),
    ("matrix_norm_2", lambda L, a: L.linalg.matrix_norm(a, 2), [(W, dW)]),
    ("vector_norm_3", lambda L, a: L.linalg.vector_norm(a, 3, dim=1), [(W, dW)]),
    ("vector_norm_1_keep", lambda L, a: L.linalg.vector_norm(a, 1, dim=0, keepdim=True),
     [(W, dW)]),
    ("norm", lambda L, a: L.linalg.norm(a), [(W, dW)]),
    ("pinv", lambda L, a: L.linalg.pinv(a), [(W, dW)]),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, [(W, dW), (W[:, :2].copy(),
                                                                        dW[:, :2].copy())]),
    ("matrix_power", lambda L, a: L.linalg.matrix_power(a, 3), [(A, dA)]),
    ("matrix_power_neg", lambda L, a: L.linalg.matrix_power(a, -2), [(A, dA)]),
    ("cross", lambda L, a, b: L.linalg.cross(a, b), [(W, dW), (W[::-1].copy(), dW)]),
    ("multi_dot", lambda L, a, b: L.linalg.multi_dot([a, b, a]), [(A, dA), (A.T.copy(), dA)]),
    ("tensorinv", lambda L, a: L.linalg.tensorinv(a, 1), [(A, dA)]),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), [(A * 0.3, dA)]),
    ("matrix_exp_top", lambda L, a: L.matrix_exp(a), [(Ab * 0.3, dAb)]),
    ("lu_L", lambda L, a: L.linalg.lu(a)[1], [(Ab, dAb)]),
    ("lu_U", lambda L, a: L.linalg.lu(a)[2], [(A, dA)]),
    ("lu_factor", lambda L, a: L.linalg.lu_factor(a)[0], [(Ab, dAb)]),
    ("lu_solve", lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b),
     [(A, dA), (B, dB)]),
]


def _jvp(L, fa, fn, ins):
    with fa.dual_level():
        xs = [fa.make_dual(L.tensor(p), L.tensor(t)) for p, t in ins]
        out = fn(L, *xs)
        primal, tangent = fa.unpack_dual(out)
        return primal.detach().numpy().copy(), (None if tangent is None else
                                                tangent.numpy().copy())


@pytest.mark.parametrize("name,fn,ins", CASES, ids=[c[0] for c in CASES])
def test_jvp_against_torch(name, fn, ins):
    tp, tt = _jvp(torch, tfa, fn, ins)
    dp, dt = _jvp(dagrad, dfa, fn, ins)
    np.testing.assert_allclose(dp, tp, rtol=1e-8, atol=1e-10)
    assert dt is not None, f"{name}: no tangent"
    np.testing.assert_allclose(dt, tt, rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("mode", ["donot_use_mm_for_euclid_dist", "use_mm_for_euclid_dist"])
def test_cdist_jvp_finite_difference(mode):
    x1, x2 = W, W + 1.0
    d1 = dW

    def f(a):
        return dagrad.cdist(dagrad.tensor(a), dagrad.tensor(x2), compute_mode=mode).numpy()
    _, t = _jvp(dagrad, dfa, lambda L, a, b: L.cdist(a, b, compute_mode=mode),
                [(x1, d1), (x2, np.zeros_like(x2))])
    eps = 1e-6
    fd = (f(x1 + eps * d1) - f(x1 - eps * d1)) / (2 * eps)
    np.testing.assert_allclose(t, fd, rtol=1e-5, atol=1e-7)


def test_wide_qr_and_full_svd_have_tangents_mode_r_raises_like_torch():
    # (the full comparison with torch is in tests/autograd/test_fwd_ops.py)
    with dfa.dual_level():
        x = dfa.make_dual(dagrad.tensor(W2), dagrad.tensor(dW2))
        assert all(dfa.unpack_dual(o).tangent is not None for o in dagrad.linalg.qr(x))
        assert all(dfa.unpack_dual(o).tangent is not None for o in dagrad.linalg.svd(x))
        with pytest.raises(RuntimeError, match="not computed when mode='r'"):
            dagrad.linalg.qr(x, mode="r")


def test_no_dual_level_no_patching():
    inv = dagrad.linalg.inv
    with dfa.dual_level():
        assert dagrad.linalg.inv is not inv
    assert dagrad.linalg.inv is inv
