"""dagrad.optim optimizers against torch.optim (single-tensor path, foreach=False).

Same initial parameters, same gradient sequence: 25 steps give the same parameter trajectories
(rtol 1e-5, atol 1e-6) and the same optimizer state; state_dict layout and round trips; errors.
"""
import copy
import warnings

import numpy as np
import pytest
import torch

import dagrad
import dagrad.optim as dopt

SHAPES = [(3, 4), (5,), ()]
STEPS = 25

CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
            dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
            dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True), dict()],
    "Adam": [dict(), dict(lr=0.01, amsgrad=True, weight_decay=0.1),
             dict(lr=0.01, maximize=True, betas=(0.8, 0.99), eps=1e-6),
             dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.5),
              dict(lr=0.02, maximize=True)],
    "RMSprop": [dict(), dict(centered=True), dict(momentum=0.9, weight_decay=0.1),
                dict(centered=True, momentum=0.9, alpha=0.9, maximize=True)],
    "Adagrad": [dict(), dict(lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1),
                dict(maximize=True, eps=1e-6)],
    "Adadelta": [dict(), dict(lr=0.5, weight_decay=0.1, rho=0.5), dict(maximize=True)],
    "Adamax": [dict(), dict(weight_decay=0.1, betas=(0.5, 0.9)), dict(maximize=True)],
    "NAdam": [dict(), dict(weight_decay=0.1), dict(weight_decay=0.1, decoupled_weight_decay=True),
              dict(momentum_decay=0.01, maximize=True)],
    "RAdam": [dict(), dict(weight_decay=0.1), dict(weight_decay=0.1, decoupled_weight_decay=True),
              dict(betas=(0.9, 0.9), maximize=True)],
    "Rprop": [dict(), dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
              dict(maximize=True)],
    "ASGD": [dict(), dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1),
             dict(t0=10, maximize=True)],
    "Adafactor": [dict(), dict(lr=0.1, weight_decay=0.1, d=1.5, beta2_decay=-0.5),
                  dict(eps=(1e-3, 1e-2), maximize=True)],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
IDS = [f"{name}-{i}" for name, cfgs in CONFIGS.items() for i in range(len(cfgs))]


def _data(dtype=np.float32, seed=0, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return init, grads


def _pair(name, cfg, init):
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    dp = [dagrad.tensor(a.copy(), requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tp, foreach=False, **cfg)
    dopt_ = getattr(dopt, name)(dp, **cfg)
    return tp, dp, topt, dopt_


def _set_grads(tp, dp, gs, skip=()):
    for i, (t, d, g) in enumerate(zip(tp, dp, gs)):
        if i in skip:
            t.grad = None
            d.grad = None
        else:
            t.grad = torch.tensor(g.copy())
            d.grad = dagrad.tensor(g.copy())


def _close(d, t, msg=""):
    a = d.detach().numpy() if isinstance(d, dagrad.Tensor) else np.asarray(d)
    b = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    assert a.shape == b.shape, msg
    assert a.dtype == b.dtype, f"{msg}: {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=msg)


def _compare_state(dopt_, topt, dp, tp):
    for d, t in zip(dp, tp):
        ds, ts = dopt_.state.get(d, {}), topt.state.get(t, {})
        assert list(ds.keys()) == list(ts.keys())
        for k in ts:
            if isinstance(ts[k], torch.Tensor):
                assert isinstance(ds[k], dagrad.Tensor), k
                _close(ds[k], ts[k], k)
            else:
                assert ds[k] == ts[k], k


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_trajectory_matches_torch(name, cfg):
    init, grads = _data()
    tp, dp, topt, dopt_ = _pair(name, cfg, init)
    for k in range(STEPS):
        _set_grads(tp, dp, grads[k])
        assert dopt_.step() is None
        topt.step()
        for j, (d, t) in enumerate(zip(dp, tp)):
            _close(d, t, f"{name} {cfg} step {k} param {j}")
    _compare_state(dopt_, topt, dp, tp)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float64_and_param_groups_and_frozen(name):
    """float64 parameters, two param groups with their own lr, a parameter without grad."""
    init, grads = _data(np.float64, seed=1, shapes=[(4, 3), (3,), (2, 2), (6,)])
    cfg = CONFIGS[name][1]
    lr = cfg.get("lr", 1e-2) * 0.5
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    dp = [dagrad.tensor(a.copy(), requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:], "lr": lr}],
                                      foreach=False, **cfg)
    dopt_ = getattr(dopt, name)([{"params": dp[:2]}, {"params": dp[2:], "lr": lr}], **cfg)
    for k in range(STEPS):
        _set_grads(tp, dp, grads[k], skip=(3,))  # param 3 is frozen: never gets a grad
        dopt_.step()
        topt.step()
        for j, (d, t) in enumerate(zip(dp, tp)):
            _close(d, t, f"{name} step {k} param {j}")
    np.testing.assert_array_equal(dp[3].detach().numpy(), init[3])
    if name != "Adagrad":  # Adagrad creates state for every parameter at construction
        assert dp[3] not in dopt_.state
    _compare_state(dopt_, topt, dp, tp)


@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "Adafactor"])
def test_complex_parameters(name):
    rng = np.random.default_rng(3)
    init = [(rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex64)]
    grads = [[(rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex64)]
             for _ in range(10)]
    cfg = CONFIGS[name][1]
    tp, dp, topt, dopt_ = _pair(name, cfg, init)
    for k in range(10):
        _set_grads(tp, dp, grads[k])
        dopt_.step()
        topt.step()
        _close(dp[0], tp[0], f"{name} complex step {k}")


def test_step_state_is_float32_scalar_tensor():
    init, grads = _data()
    tp, dp, topt, dopt_ = _pair("Adam", {}, init)
    _set_grads(tp, dp, grads[0])
    dopt_.step()
    st = dopt_.state[dp[0]]["step"]
    assert isinstance(st, dagrad.Tensor) and st.shape == () and st.dtype == dagrad.float32
    assert st.item() == 1.0
    assert repr(st) == "tensor(1.)"


def test_closure_returns_loss_and_runs_with_grad():
    w = dagrad.tensor([1.0, -2.0], requires_grad=True)
    opt = dopt.SGD([w], lr=0.1)
    seen = {}

    def closure():
        opt.zero_grad()
        seen["grad_enabled"] = dagrad.is_grad_enabled()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with dagrad.no_grad():
        loss = opt.step(closure)
    assert seen["grad_enabled"] is True
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    assert not w.grad_fn  # still a leaf after the in-place update


def test_step_runs_under_no_grad_and_bumps_version():
    w = dagrad.tensor([1.0, 2.0], requires_grad=True)
    opt = dopt.Adam([w], lr=0.1)
    w.grad = dagrad.tensor([1.0, 1.0])
    v0 = w._version
    opt.step()
    assert w._version > v0
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_zero_grad():
    init, grads = _data()
    tp, dp, topt, dopt_ = _pair("SGD", dict(lr=0.1), init)
    _set_grads(tp, dp, grads[0])
    dopt_.zero_grad(set_to_none=False)
    topt.zero_grad(set_to_none=False)
    for d, t in zip(dp, tp):
        assert d.grad is not None
        _close(d.grad, t.grad)
        assert float(np.abs(d.grad.numpy()).sum()) == 0.0
    dopt_.zero_grad()
    assert all(d.grad is None for d in dp)
    # a step with all grads None changes nothing and creates no state
    before = [d.detach().numpy().copy() for d in dp]
    dopt_.step()
    for b, d in zip(before, dp):
        np.testing.assert_array_equal(b, d.detach().numpy())
    assert len(dopt_.state) == 0


# ---------------------------------------------------------------------------- state_dict
def _structure(sd):
    """Replace tensors with (shape, dtype) so layouts can be compared across libraries."""
    if isinstance(sd, (torch.Tensor, dagrad.Tensor)):
        return ("tensor", tuple(sd.shape), str(sd.dtype))
    if isinstance(sd, dict):
        return {k: _structure(v) for k, v in sd.items()}
    if isinstance(sd, (list, tuple)):
        return type(sd)(_structure(v) for v in sd)
    return sd


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_state_dict_layout_equals_torch(name, cfg):
    init, grads = _data(shapes=[(2, 3), (3,), (4,)])
    tp, dp, topt, dopt_ = _pair(name, cfg, init)
    topt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": 0.5})
    dopt_.add_param_group({"params": [dagrad.zeros(2, requires_grad=True)], "lr": 0.5})
    for k in range(3):
        _set_grads(tp, dp, grads[k], skip=(1,))
        topt.step()
        dopt_.step()
    tsd, dsd = topt.state_dict(), dopt_.state_dict()
    tstruct, dstruct = _structure(tsd), _structure(dsd)
    tstruct["param_groups"] = [{k: v for k, v in g.items() if k != "foreach"}
                               for g in tstruct["param_groups"]]
    for g in dstruct["param_groups"]:
        assert g.pop("foreach") is None
    assert dstruct == tstruct
    # key order too
    assert [list(g) for g in dsd["param_groups"]] == [list(g) for g in tsd["param_groups"]]
    assert list(dsd["state"]) == list(tsd["state"])
    for i in tsd["state"]:
        assert list(dsd["state"][i]) == list(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            _close(dsd["state"][i][k], v, f"state {i} {k}")


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_state_dict_round_trip_resumes_identically(name, cfg):
    init, grads = _data(seed=5)
    dp = [dagrad.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(dopt, name)(dp, **cfg)
    for k in range(10):
        for d, g in zip(dp, grads[k]):
            d.grad = dagrad.tensor(g)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    dp2 = [dagrad.tensor(d.detach().numpy().copy(), requires_grad=True) for d in dp]
    opt2 = getattr(dopt, name)(dp2, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt2.param_groups[0]["params"][0] is dp2[0]
    for k in range(10, STEPS):
        for d, d2, g in zip(dp, dp2, grads[k]):
            d.grad = dagrad.tensor(g)
            d2.grad = dagrad.tensor(g)
        opt.step()
        opt2.step()
        for d, d2 in zip(dp, dp2):
            np.testing.assert_array_equal(d.detach().numpy(), d2.detach().numpy())


@pytest.mark.parametrize("name,cfg", CASES[::3], ids=IDS[::3])
def test_load_torch_state_dict_continues_like_torch(name, cfg):
    """A state dict produced by torch (tensors converted) resumes dagrad on torch's path."""
    init, grads = _data(seed=7)
    tp, dp, topt, _ = _pair(name, cfg, init)
    for k in range(8):
        _set_grads(tp, dp, grads[k])
        topt.step()

    def conv(v):
        if isinstance(v, torch.Tensor):
            return dagrad.tensor(v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    sd = conv(copy.deepcopy(topt.state_dict()))
    dp = [dagrad.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tp]
    dopt_ = getattr(dopt, name)(dp)
    dopt_.load_state_dict(sd)
    for k in range(8, STEPS):
        _set_grads(tp, dp, grads[k])
        topt.step()
        dopt_.step()
        for d, t in zip(dp, tp):
            _close(d, t, f"{name} resumed step {k}")


def test_load_state_dict_errors_and_casts():
    a = dagrad.zeros(2, requires_grad=True)
    b = dagrad.zeros(3, requires_grad=True)
    opt = dopt.SGD([a, b], lr=0.1, momentum=0.9)
    opt2 = dopt.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter "
                                         "groups"):
        opt.load_state_dict(opt2.state_dict())
    opt3 = dopt.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that "
                                         "doesn't match the size of optimizer's group"):
        opt.load_state_dict(opt3.state_dict())
    # state saved from float64 params is cast to the new params' dtype (float32)
    a64 = dagrad.zeros(2, dtype=dagrad.float64, requires_grad=True)
    o64 = dopt.SGD([a64], lr=0.1, momentum=0.9)
    a64.grad = dagrad.ones(2, dtype=dagrad.float64)
    o64.step()
    o32 = dopt.SGD([a], lr=0.1, momentum=0.9)
    o32.load_state_dict(o64.state_dict())
    assert o32.state[a]["momentum_buffer"].dtype == dagrad.float32


# ---------------------------------------------------------------------------- errors
def _errors_equal(fn_t, fn_d):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ed:
        fn_d()
    assert type(ed.value) is type(et.value), (ed.value, et.value)
    assert str(ed.value) == str(et.value)


BAD = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1)), ("SGD", dict(lr=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adam", dict(lr=-1e-3)), ("Adam", dict(eps=-1.0)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.1)),
    ("Adam", dict(betas=(0.9, 1))), ("AdamW", dict(lr=-2.0)),
    ("RMSprop", dict(alpha=-0.1)), ("RMSprop", dict(momentum=-0.1)), ("RMSprop", dict(eps=-1.0)),
    ("Adagrad", dict(lr_decay=-0.1)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adadelta", dict(rho=1.5)), ("Adamax", dict(betas=(0.9, 1.5))),
    ("NAdam", dict(momentum_decay=-1.0)), ("RAdam", dict(eps=-1e-8)),
    ("SGD", dict(lr=0.1, fused=True, differentiable=True)),
]


@pytest.mark.parametrize("name,cfg", BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_invalid_hyperparameters_match_torch(name, cfg):
    _errors_equal(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **cfg),
                  lambda: getattr(dopt, name)([dagrad.zeros(2, requires_grad=True)], **cfg))


def test_param_errors_match_torch():
    _errors_equal(lambda: torch.optim.SGD([], lr=0.1), lambda: dopt.SGD([], lr=0.1))
    _errors_equal(lambda: torch.optim.Adam(iter([])), lambda: dopt.Adam(iter([])))
    tx = torch.ones(2, requires_grad=True)
    dx = dagrad.ones(2, requires_grad=True)
    _errors_equal(lambda: torch.optim.SGD([tx * 2], lr=0.1), lambda: dopt.SGD([dx * 2], lr=0.1))
    _errors_equal(lambda: torch.optim.SGD(tx, lr=0.1), lambda: dopt.SGD(dx, lr=0.1))
    _errors_equal(lambda: torch.optim.SGD([tx, 3], lr=0.1), lambda: dopt.SGD([dx, 3], lr=0.1))
    _errors_equal(lambda: torch.optim.SGD([{"params": {tx}}], lr=0.1),
                  lambda: dopt.SGD([{"params": {dx}}], lr=0.1))
    _errors_equal(lambda: torch.optim.SGD([{"params": [tx]}, {"params": [tx]}], lr=0.1),
                  lambda: dopt.SGD([{"params": [dx]}, {"params": [dx]}], lr=0.1))
    t_opt, d_opt = torch.optim.SGD([tx], lr=0.1), dopt.SGD([dx], lr=0.1)
    _errors_equal(lambda: t_opt.add_param_group([tx]), lambda: d_opt.add_param_group([dx]))
    # a non-leaf that retains grad is accepted, as in torch
    y = dx * 2
    y.retain_grad()
    dopt.SGD([y], lr=0.1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        dopt.SGD([dx, dx], lr=0.1)
    assert any("duplicate parameters" in str(x.message) for x in w)


def test_required_lr_and_named_params():
    from dagrad.optim.optimizer import required
    assert repr(required) == "<required parameter>"
    a = dagrad.zeros(2, requires_grad=True)
    opt = dopt.SGD([("w", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]
    topt = torch.optim.SGD([("w", torch.zeros(2, requires_grad=True))], lr=0.1)
    assert list(topt.state_dict()["param_groups"][0]) == list(
        opt.state_dict()["param_groups"][0])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_repr_and_defaults_equal_torch(name):
    t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    d = getattr(dopt, name)([dagrad.zeros(2, requires_grad=True)])
    assert repr(d) == repr(t)
    assert d.defaults == t.defaults
    assert list(d.param_groups[0]) == list(t.param_groups[0])


def test_step_hooks():
    a = dagrad.zeros(2, requires_grad=True)
    opt = dopt.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kw: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]
    sd_calls = []
    opt.register_state_dict_pre_hook(lambda o: sd_calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: sd_calls.append("post"))
    opt.state_dict()
    assert sd_calls == ["pre", "post"]


def test_sgd_seed_usage_frozen_finetune():
    """The seed's fine-tuning pattern: all parameters registered, only trainable ones move."""
    rng = np.random.default_rng(0)
    frozen = dagrad.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    frozen.requires_grad_(True)
    w = dagrad.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    frozen.requires_grad_(False)
    opt = dopt.SGD([frozen, w], lr=1e-2, momentum=0.9)
    x = dagrad.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    f0 = frozen.numpy().copy()
    w0 = w.detach().numpy().copy()
    (x @ frozen @ w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(frozen.numpy(), f0)
    assert not np.array_equal(w.detach().numpy(), w0)
    assert list(opt.state) == [w]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam", "Adagrad"])
def test_tensor_lr_and_scheduler_fill(name):
    d = dagrad.ones(3, requires_grad=True)
    t = torch.ones(3, requires_grad=True)
    do = getattr(dopt, name)([d], lr=dagrad.tensor(0.01))
    to = getattr(torch.optim, name)([t], lr=torch.tensor(0.01), foreach=False)
    ds = dopt.lr_scheduler.ExponentialLR(do, 0.5)
    ts = torch.optim.lr_scheduler.ExponentialLR(to, 0.5)
    for k in range(5):
        d.grad = dagrad.ones(3) * (k + 1)
        t.grad = torch.ones(3) * (k + 1)
        do.step()
        to.step()
        ds.step()
        ts.step()
        _close(d, t)
        assert isinstance(do.param_groups[0]["lr"], dagrad.Tensor)
        _close(ds.get_last_lr()[0], ts.get_last_lr()[0])


def test_differentiable_is_reported_as_unsupported():
    d = dagrad.ones(3, requires_grad=True)
    opt = dopt.SGD([d], lr=0.1, differentiable=True)
    d.grad = dagrad.ones(3)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        opt.step()


def test_user_defined_optimizer_subclass():
    class MyOpt(dopt.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @dagrad.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    st["n"] = st.get("n", 0) + 1
                    p.add_(p.grad, alpha=-group["lr"])

    w = dagrad.ones(3, requires_grad=True)
    opt = MyOpt([w])
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 0.8, 0.8], rtol=1e-6)
    assert opt.state_dict() == {"state": {0: {"n": 1}},
                                "param_groups": [{"lr": 0.1, "params": [0]}]}
    assert calls == [1]
    s = dopt.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] == 0.05
