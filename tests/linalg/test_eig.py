"""torch.linalg.eig / eigvals gradients (LinalgEigBackward0) and forward-mode tangents, against
torch 2.13 and float64 finite differences, on real and complex inputs with distinct eigenvalues."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfa

import dagrad
import dagrad.autograd.forward_ad as dfa
from dagrad.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(1234)
REAL = rng.standard_normal((2, 4, 4))
CPLX = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))
SMALL = rng.standard_normal((3, 3))

GAUGE_MSG = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
             "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
             "so it is ill-defined.")

# losses invariant under V -> V e^{i phi} and under the order of the eigenpairs
LOSSES = {
    "abs_L": lambda L, V: L.abs().sum(),
    "re_im_L": lambda L, V: (L.real * L.imag).sum() + L.real.sum() + (L * L).imag.sum(),
    "abs_V": lambda L, V: (V.abs() ** 3).sum(),
    "mixed": lambda L, V: (L.abs() * (V.abs() ** 2).sum(-2)).sum() + (L * L).real.sum(),
    "angle_L": lambda L, V: L.angle().sin().sum(),
}


def _both(a):
    return torch.tensor(a, requires_grad=True), dagrad.tensor(a, requires_grad=True)


@pytest.mark.parametrize("kind", ["real", "complex"])
@pytest.mark.parametrize("loss", list(LOSSES), ids=list(LOSSES))
def test_eig_grad_matches_torch(kind, loss):
    a = REAL if kind == "real" else CPLX
    t, d = _both(a)
    Lt, Vt = torch.linalg.eig(t)
    Ld, Vd = dagrad.linalg.eig(d)
    assert type(Ld.grad_fn).__name__ == "LinalgEigBackward0"
    assert Ld.grad_fn is Vd.grad_fn
    assert Ld.dtype == dagrad.complex128 and Vd.dtype == dagrad.complex128
    np.testing.assert_allclose(np.sort_complex(Ld.detach().numpy().ravel()),
                               np.sort_complex(Lt.detach().numpy().ravel()), atol=1e-12)
    LOSSES[loss](Lt, Vt).backward()
    LOSSES[loss](Ld, Vd).backward()
    assert d.grad.dtype == (dagrad.float64 if kind == "real" else dagrad.complex128)
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["real", "complex"])
def test_eigvals_grad_and_node(kind):
    a = REAL if kind == "real" else CPLX
    t, d = _both(a)
    wt, wd = torch.linalg.eigvals(t), dagrad.linalg.eigvals(d)
    assert type(wd.grad_fn).__name__ == type(wt.grad_fn).__name__ == "LinalgEigBackward0"
    (wt.abs() ** 2 + wt.real).sum().backward()
    (wd.abs() ** 2 + wd.real).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_eig_float32_dtypes():
    a = REAL.astype(np.float32)
    t, d = _both(a)
    Lt, Vt = torch.linalg.eig(t)
    Ld, Vd = dagrad.linalg.eig(d)
    assert Ld.dtype == dagrad.complex64 and Vd.dtype == dagrad.complex64
    Lt.abs().sum().backward()
    Ld.abs().sum().backward()
    assert d.grad.dtype == dagrad.float32
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_eig_no_grad_when_not_required():
    L, V = dagrad.linalg.eig(dagrad.tensor(REAL))
    assert L.grad_fn is None and not L.requires_grad
    with dagrad.no_grad():
        L, V = dagrad.linalg.eig(dagrad.tensor(REAL, requires_grad=True))
    assert L.grad_fn is None


@pytest.mark.parametrize("kind", ["real", "complex"])
def test_gauge_dependent_loss_raises_like_torch(kind):
    a = REAL if kind == "real" else CPLX
    t, d = _both(a)
    with pytest.raises(RuntimeError) as et:
        torch.linalg.eig(t)[1].real.sum().backward()
    with pytest.raises(RuntimeError) as ed:
        dagrad.linalg.eig(d)[1].real.sum().backward()
    assert GAUGE_MSG in str(et.value)
    assert GAUGE_MSG in str(ed.value)


def test_gauge_invariant_loss_does_not_raise():
    d = dagrad.tensor(CPLX, requires_grad=True)
    L, V = dagrad.linalg.eig(d)
    # V^H V is invariant under V -> V e^{i phi} only on its modulus
    (V.mH @ V).abs().sum().backward()
    assert d.grad is not None


def test_gradcheck_real_float64():
    # gauge-invariant real functions of a real input
    def f(A):
        L, V = dagrad.linalg.eig(A)
        return L.abs(), (V.abs() ** 2).sum(-1), (L * L).real
    A = dagrad.tensor(SMALL, requires_grad=True)
    assert gradcheck(f, (A,))
    assert gradcheck(lambda A: dagrad.linalg.eigvals(A).abs(), (A,))


def test_gradgradcheck_real_float64():
    A = dagrad.tensor(SMALL, requires_grad=True)
    assert gradgradcheck(lambda A: dagrad.linalg.eigvals(A).abs(), (A,))


def _fd_complex_grad(f, z, eps=1e-6):
    """torch's convention for a real loss of a complex input: dL/dRe + i dL/dIm."""
    g = np.zeros_like(z)
    for k in range(z.size):
        for unit in (1.0, 1j):
            zp, zm = z.copy(), z.copy()
            zp.reshape(-1)[k] += eps * unit
            zm.reshape(-1)[k] -= eps * unit
            g.reshape(-1)[k] += unit * (f(zp) - f(zm)) / (2 * eps)
    return g


@pytest.mark.parametrize("loss", ["abs_L", "mixed", "abs_V"])
def test_complex128_finite_differences(loss):
    z = CPLX[0, :3, :3].copy()

    def f(arr):
        L, V = dagrad.linalg.eig(dagrad.tensor(arr))
        return float(LOSSES[loss](L, V).item())
    d = dagrad.tensor(z, requires_grad=True)
    L, V = dagrad.linalg.eig(d)
    LOSSES[loss](L, V).backward()
    np.testing.assert_allclose(d.grad.numpy(), _fd_complex_grad(f, z), rtol=1e-6, atol=1e-7)


def test_complex_vjp_matches_torch():
    # a full complex VJP (random cotangents, eigenvector cotangent projected to be gauge-free)
    a = CPLX
    t, d = _both(a)
    Lt, Vt = torch.linalg.eig(t)
    Ld, Vd = dagrad.linalg.eig(d)
    # match eigenpair order and phases of dagrad's to torch's
    lt, vt = Lt.detach().numpy(), Vt.detach().numpy()
    ld, vd = Ld.detach().numpy(), Vd.detach().numpy()
    gL = rng.standard_normal(lt.shape) + 1j * rng.standard_normal(lt.shape)
    gV = rng.standard_normal(vt.shape) + 1j * rng.standard_normal(vt.shape)
    # remove the gauge-dependent part: Im diag(V^H gV) = 0
    dg = np.einsum("...ij,...ij->...j", vt.conj(), gV)
    gV = gV - vt * (1j * dg.imag)[..., None, :]
    gt, = torch.autograd.grad((Lt, Vt), t, (torch.tensor(gL), torch.tensor(gV)))
    # the same cotangent expressed in dagrad's eigenpair order and phase
    order = np.stack([np.array([int(np.argmin(np.abs(ld[b] - x))) for x in lt[b]])
                      for b in range(lt.shape[0])])
    gLd = np.zeros_like(gL)
    gVd = np.zeros_like(gV)
    for b in range(lt.shape[0]):
        for i, j in enumerate(order[b]):
            ph = np.vdot(vd[b][:, j], vt[b][:, i])  # vt = vd * ph
            gLd[b, j] = gL[b, i]
            gVd[b][:, j] = gV[b][:, i] * ph.conjugate() / abs(ph)
    gd, = dagrad.autograd.grad((Ld, Vd), d, (dagrad.tensor(gLd), dagrad.tensor(gVd)))
    np.testing.assert_allclose(gd.numpy(), gt.numpy(), rtol=1e-8, atol=1e-10)


def _jvp(L, fa, fn, a, da):
    with fa.dual_level():
        x = fa.make_dual(L.tensor(a), L.tensor(da))
        out = fn(L, x)
        outs = out if isinstance(out, tuple) else (out,)
        res = []
        for o in outs:
            p, tg = fa.unpack_dual(o)
            res.append((p.detach().numpy().copy(), None if tg is None else tg.numpy().copy()))
        return res


@pytest.mark.parametrize("kind", ["real", "complex"])
@pytest.mark.parametrize("which", ["eig", "eigvals"])
def test_forward_ad_matches_torch(kind, which):
    a = REAL if kind == "real" else CPLX
    da = rng.standard_normal(a.shape) + (1j * rng.standard_normal(a.shape) if kind == "complex"
                                         else 0)

    def fn(L, x):
        if which == "eigvals":
            return (L.linalg.eigvals(x),)
        w, V = L.linalg.eig(x)
        return w, V * V.conj()  # |V|^2: independent of the eigenvectors' phases
    (tp, tt), *tv = _jvp(torch, tfa, fn, a, da)
    (dp, dt), *dv = _jvp(dagrad, dfa, fn, a, da)
    assert dt is not None
    # LAPACK builds may order the eigenpairs differently: match dagrad's to torch's
    order = np.stack([[int(np.argmin(np.abs(dp[b] - x))) for x in tp[b]]
                      for b in range(tp.shape[0])])
    take = np.take_along_axis
    np.testing.assert_allclose(take(dp, order, -1), tp, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(take(dt, order, -1), tt, rtol=1e-8, atol=1e-10)
    for (tvp, tvt), (dvp, dvt) in zip(tv, dv):
        np.testing.assert_allclose(take(dvp, order[:, None, :], -1), tvp, rtol=1e-8,
                                   atol=1e-10)
        np.testing.assert_allclose(take(dvt, order[:, None, :], -1), tvt, rtol=1e-7,
                                   atol=1e-9)


def test_eig_out():
    a = dagrad.tensor(REAL)
    L, V = dagrad.empty(0, dtype=dagrad.complex128), dagrad.empty(0, dtype=dagrad.complex128)
    r = dagrad.linalg.eig(a, out=(L, V))
    assert r.eigenvalues is L and r.eigenvectors is V
    assert type(r).__name__ == type(torch.linalg.eig(torch.tensor(REAL), out=(
        torch.empty(0, dtype=torch.complex128), torch.empty(0, dtype=torch.complex128)))).__name__
    np.testing.assert_allclose(L.numpy(), np.linalg.eig(REAL)[0])
    w = dagrad.empty(0, dtype=dagrad.complex128)
    assert dagrad.linalg.eigvals(a, out=w) is w
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvals(REAL))


def test_gradcheck_complex128_wirtinger():
    # dagrad's gradcheck checks complex inputs/outputs through their real and imaginary parts
    Z = CPLX[0, :3, :3].copy()
    A = dagrad.tensor(Z, requires_grad=True)
    assert gradcheck(lambda A: dagrad.linalg.eigvals(A), (A,))
    assert gradcheck(lambda A: dagrad.linalg.eig(A)[1].abs(), (A,))
    assert gradcheck(lambda A: (dagrad.linalg.eig(A)[1] * dagrad.linalg.eig(A)[1].conj()).real,
                     (A,))
    # real input, complex output
    R = dagrad.tensor(SMALL, requires_grad=True)
    assert gradcheck(lambda A: dagrad.linalg.eig(A)[0], (R,))


def test_complex_gradcheck_detects_a_wrong_gradient():
    class NoConj(dagrad.autograd.Function):  # d(z^2) without the conjugate: wrong
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 2 * z
    A = dagrad.tensor(CPLX[0, :2, :2].copy(), requires_grad=True)
    assert not gradcheck(NoConj.apply, (A,), raise_exception=False)
    assert gradcheck(lambda z: z * z, (A,))


@pytest.mark.parametrize("name,fn", [
    ("eig_out_tensor", lambda L: L.linalg.eig(L.ones(2, 2), out=L.empty(0))),
    ("eig_out_float", lambda L: L.linalg.eig(L.ones(2, 2), out=(L.empty(0), L.empty(0)))),
    ("eig_out_vec_float", lambda L: L.linalg.eig(L.ones(2, 2), out=(
        L.empty(0, dtype=L.complex64), L.empty(0)))),
    ("eigvals_out_float", lambda L: L.linalg.eigvals(L.ones(2, 2), out=L.empty(0))),
    ("eig_out_grad", lambda L: L.linalg.eig(L.ones(2, 2, requires_grad=True), out=(
        L.empty(0, dtype=L.complex64), L.empty(0, dtype=L.complex64)))),
    ("eig_non_square", lambda L: L.linalg.eig(L.ones(2, 3))),
    ("eig_1d", lambda L: L.linalg.eig(L.ones(3))),
    ("eig_int", lambda L: L.linalg.eig(L.ones(2, 2, dtype=L.int64))),
    ("eigvals_half", lambda L: L.linalg.eigvals(L.ones(2, 2, dtype=L.float16))),
], ids=["eig_out_tensor", "eig_out_float", "eig_out_vec_float", "eigvals_out_float",
        "eig_out_grad", "eig_non_square", "eig_1d", "eig_int", "eigvals_half"])
def test_eig_errors_match_torch(name, fn):
    import warnings
    res = []
    for L in (torch, dagrad):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as e:
                fn(L)
        res.append((type(e.value).__name__, str(e.value)))
    assert res[1] == res[0]


def test_eig_empty_and_one_by_one_grads():
    for shape in [(1, 1), (0, 0), (2, 0, 0), (3, 1, 1)]:
        arr = rng.standard_normal(shape)
        grads = []
        for L in (torch, dagrad):
            a = L.tensor(arr, requires_grad=True)
            w, v = L.linalg.eig(a)
            (w.abs().sum() + v.abs().sum()).backward()
            grads.append(a.grad.numpy())
        np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)


def test_eigvals_out_with_grad_like_torch():
    for L in (torch, dagrad):
        A = L.tensor(REAL[0], requires_grad=True)
        o = L.empty(0, dtype=L.complex128)
        r = L.linalg.eigvals(A, out=o)
        assert r is o and r.requires_grad and type(r.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_eigvals is not "
                                               "implemented"):
            r.abs().sum().backward()
