"""dagrad.optim.lr_scheduler against torch.optim.lr_scheduler: 25 epochs of learning rates
(chainable form), closed form via step(epoch), momentum cycling, state_dict keys and round trips,
parameters trained under a schedule, errors and warnings."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import dagrad
import dagrad.optim as dopt
from dagrad.optim import lr_scheduler as dls

tls = torch.optim.lr_scheduler
EPOCHS = 25


def _opts(opt_name="SGD", **kw):
    t = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    d = [dagrad.zeros(2, requires_grad=True), dagrad.zeros(3, requires_grad=True)]
    kw.setdefault("lr", 0.1)
    extra = {"momentum": 0.9} if opt_name == "SGD" else {}
    extra.update({k: v for k, v in kw.items() if k != "lr"})
    topt = getattr(torch.optim, opt_name)([{"params": [t[0]]}, {"params": [t[1]],
                                                                "lr": kw["lr"] / 10}],
                                          lr=kw["lr"], **extra)
    dopt_ = getattr(dopt, opt_name)([{"params": [d[0]]}, {"params": [d[1]], "lr": kw["lr"] / 10}],
                                    lr=kw["lr"], **extra)
    return topt, dopt_


def _lam(e):
    return 0.95 ** e


def _lam2(e):
    return 1.0 / (e + 1)


SCHEDS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "StepLR-default": lambda m, o: m.StepLR(o, 7),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, _lam),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [_lam, _lam2]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR-custom": lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.5,
                                               total_iters=8),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS + 1),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 0.05], epochs=2, steps_per_epoch=13, anneal_strategy="linear",
        three_phase=True, pct_start=0.25),
    "OneCycleLR-nomom": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=30,
                                                  cycle_momentum=False, div_factor=10.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-tri2": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                             step_size_down=2, mode="triangular2"),
    "CyclicLR-exp": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                            mode="exp_range", gamma=0.9),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20)],
        milestones=[5]),
    "SequentialLR-3": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=3), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=2)], milestones=[4, 12]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, step_size=4, gamma=0.5)]),
}


def _momentum(opt):
    g = opt.param_groups[0]
    return g.get("momentum", g.get("betas", (None,))[0])


def _run(mod, opt, make):
    sched = make(mod, opt)
    lrs = [list(sched.get_last_lr())]
    groups = [[g["lr"] for g in opt.param_groups]]
    moms = [_momentum(opt)]
    for _ in range(EPOCHS):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        groups.append([g["lr"] for g in opt.param_groups])
        moms.append(_momentum(opt))
    return sched, lrs, groups, moms


@pytest.mark.parametrize("key", list(SCHEDS))
def test_learning_rates_match_torch(key):
    topt, dopt_ = _opts()
    _, tl, tg, tm = _run(tls, topt, SCHEDS[key])
    _, dl, dg, dm = _run(dls, dopt_, SCHEDS[key])
    np.testing.assert_allclose(dl, tl, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dg, tg, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dm, tm, rtol=1e-12, atol=1e-15)
    assert [type(x) for row in dl for x in row] == [type(x) for row in tl for x in row]


@pytest.mark.parametrize("key", ["OneCycleLR", "CyclicLR"])
def test_beta1_cycling_with_adam(key):
    topt, dopt_ = _opts("Adam", lr=0.01)
    _, tl, _, tm = _run(tls, topt, SCHEDS[key])
    _, dl, _, dm = _run(dls, dopt_, SCHEDS[key])
    np.testing.assert_allclose(dl, tl, rtol=1e-12)
    np.testing.assert_allclose(dm, tm, rtol=1e-12)
    assert dopt_.param_groups[0]["betas"][1] == 0.999


@pytest.mark.parametrize("key", list(SCHEDS))
def test_state_dict_keys_equal_torch(key):
    topt, dopt_ = _opts()
    ts, _, _, _ = _run(tls, topt, SCHEDS[key])
    ds, _, _, _ = _run(dls, dopt_, SCHEDS[key])
    tsd, dsd = ts.state_dict(), ds.state_dict()
    assert list(dsd) == list(tsd)
    for k, v in tsd.items():
        if k == "_schedulers":
            assert [list(s) for s in dsd[k]] == [list(s) for s in v]
        elif isinstance(v, (int, float, str, bool, list, type(None))) and k not in (
                "lr_lambdas",):
            if isinstance(v, float):
                assert math.isclose(dsd[k], v, rel_tol=1e-12), k
            elif isinstance(v, list) and v and isinstance(v[0], float):
                np.testing.assert_allclose(dsd[k], v, rtol=1e-12)
            else:
                assert dsd[k] == v, k
    # optimizer state dicts carry the same scheduler-added group keys
    assert [list(g) for g in dopt_.state_dict()["param_groups"]] == [
        list(g) for g in topt.state_dict()["param_groups"]]


@pytest.mark.parametrize("key", [k for k in SCHEDS if "OneCycle" not in k] + ["OneCycleLR"])
def test_state_dict_round_trip(key):
    make = SCHEDS[key]
    _, dopt_ = _opts()
    sched = make(dls, dopt_)
    for _ in range(10):
        dopt_.step()
        sched.step()
    ssd = copy.deepcopy(sched.state_dict())
    osd = copy.deepcopy(dopt_.state_dict())
    _, dopt2 = _opts()
    sched2 = make(dls, dopt2)
    sched2.load_state_dict(ssd)
    dopt2.load_state_dict(osd)
    for _ in range(10, EPOCHS):
        dopt_.step()
        sched.step()
        dopt2.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in dopt2.param_groups] == [g["lr"] for g in dopt_.param_groups]


def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6,
               0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    for kw in [dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
               dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.02, 0.001]),
               dict(mode="max", threshold_mode="abs", patience=3, eps=1e-3)]:
        topt, dopt_ = _opts()
        ts, ds = tls.ReduceLROnPlateau(topt, **kw), dls.ReduceLROnPlateau(dopt_, **kw)
        for m in metrics:
            topt.step()
            dopt_.step()
            ts.step(m)
            ds.step(dagrad.tensor(m, dtype=dagrad.float64))  # float(metrics)
            assert ds.get_last_lr() == ts.get_last_lr(), kw
            assert (ds.num_bad_epochs, ds.cooldown_counter, ds.best) == (
                ts.num_bad_epochs, ts.cooldown_counter, ts.best)
        assert list(ds.state_dict()) == list(ts.state_dict())
        sd = copy.deepcopy(ds.state_dict())
        _, dopt2 = _opts()
        ds2 = dls.ReduceLROnPlateau(dopt2)
        ds2.load_state_dict(sd)
        assert (ds2.mode, ds2.patience, ds2.best) == (ds.mode, ds.patience, ds.best)


@pytest.mark.parametrize("key,epochs", [("StepLR", [0, 3, 7, 2, 10]),
                                        ("MultiStepLR", [1, 5, 12, 4]),
                                        ("ExponentialLR", [3, 1, 6]),
                                        ("CosineAnnealingLR", [4, 9, 13, 2]),
                                        ("LinearLR", [2, 7, 1]), ("ConstantLR", [2, 5, 0]),
                                        ("PolynomialLR", [3, 15]),
                                        ("LambdaLR", [4, 2]),
                                        ("CosineAnnealingWarmRestarts-mult", [0, 2.5, 4, 11, 30])])
def test_step_with_epoch_closed_form(key, epochs):
    topt, dopt_ = _opts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, ds = SCHEDS[key](tls, topt), SCHEDS[key](dls, dopt_)
        for e in epochs:
            topt.step()
            dopt_.step()
            ts.step(e)
            ds.step(e)
            np.testing.assert_allclose(ds.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
            assert ds.last_epoch == ts.last_epoch
    if "WarmRestarts" not in key:  # it overrides step() without the deprecation warning
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
            ds.step(1)


def test_training_under_schedule_matches_torch():
    rng = np.random.default_rng(0)
    init = rng.standard_normal((4, 3)).astype(np.float32)
    tw = torch.tensor(init.copy(), requires_grad=True)
    dw = dagrad.tensor(init.copy(), requires_grad=True)
    topt = torch.optim.Adam([tw], lr=0.05, foreach=False)
    dopt_ = dopt.Adam([dw], lr=0.05)
    ts = tls.OneCycleLR(topt, max_lr=0.1, total_steps=EPOCHS)
    ds = dls.OneCycleLR(dopt_, max_lr=0.1, total_steps=EPOCHS)
    for _ in range(EPOCHS):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        tw.grad, dw.grad = torch.tensor(g), dagrad.tensor(g)
        topt.step()
        dopt_.step()
        ts.step() if ts.last_epoch < EPOCHS - 1 else None
        ds.step() if ds.last_epoch < EPOCHS - 1 else None
        np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_warnings_like_torch():
    _, dopt_ = _opts()
    s = dls.StepLR(dopt_, 2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before "
                                         "`optimizer.step\\(\\)`"):
        s.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()
    _, dopt_ = _opts()
    s = dls.StepLR(dopt_, 2)
    dopt_.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()
    assert hasattr(dopt_.step, "_wrapped_by_lr_sched")


def _err(fn_t, fn_d):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ed:
        fn_d()
    assert type(ed.value) is type(et.value)
    assert str(ed.value) == str(et.value)


ERRS = [
    lambda m, o: m.StepLR("not an optimizer", 3),
    lambda m, o: m.LinearLR(o, start_factor=0),
    lambda m, o: m.LinearLR(o, end_factor=1.5),
    lambda m, o: m.ConstantLR(o, factor=2.0),
    lambda m, o: m.LambdaLR(o, [_lam]),
    lambda m, o: m.MultiplicativeLR(o, [1, 2]),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=10),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    lambda m, o: m.ReduceLROnPlateau(o, mode="up"),
    lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[]),
    lambda m, o: m.SequentialLR(o, [], milestones=[]),
    lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]),
    lambda m, o: m.StepLR(o, 2, last_epoch=3),
    lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="other"),
]


@pytest.mark.parametrize("i", range(len(ERRS)))
def test_errors_match_torch(i):
    topt, dopt_ = _opts()
    _err(lambda: ERRS[i](tls, topt), lambda: ERRS[i](dls, dopt_))


def test_one_cycle_too_many_steps():
    topt, dopt_ = _opts()
    ts = tls.OneCycleLR(topt, max_lr=0.1, total_steps=3)
    ds = dls.OneCycleLR(dopt_, max_lr=0.1, total_steps=3)
    for _ in range(3):
        topt.step()
        dopt_.step()
        ts.step()
        ds.step()
    _err(lambda: ts.step(), lambda: ds.step())


def test_lambda_state_dict_keeps_callable_objects_state():
    class Fn:
        def __init__(self):
            self.k = 0.5

        def __call__(self, e):
            return self.k ** e

    _, dopt_ = _opts()
    f = Fn()
    s = dls.LambdaLR(dopt_, [f, _lam])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.5}, None]
    f2 = Fn()
    f2.k = 0.1
    _, dopt2 = _opts()
    s2 = dls.LambdaLR(dopt2, [f2, _lam])
    s2.load_state_dict(sd)
    assert f2.k == 0.5


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=3)),
                                     ("CosineAnnealingLR", dict(T_max=10)),
                                     ("ExponentialLR", dict(gamma=0.9)), ("LinearLR", {}),
                                     ("MultiStepLR", dict(milestones=[7, 9])),
                                     ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2)),
                                     ("PolynomialLR", dict(total_iters=9)), ("ConstantLR", {})])
def test_resume_with_last_epoch_matches_torch(name, kw):
    def mk(lib, optlib):
        o = optlib.SGD([lib.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        o.param_groups[0]["initial_lr"] = 0.2
        return o

    to, do = mk(torch, torch.optim), mk(dagrad, dopt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = getattr(tls, name)(to, last_epoch=5, **kw)
        ds = getattr(dls, name)(do, last_epoch=5, **kw)
        a, b = [ts.get_last_lr()], [ds.get_last_lr()]
        for _ in range(8):
            to.step()
            do.step()
            ts.step()
            ds.step()
            a.append(ts.get_last_lr())
            b.append(ds.get_last_lr())
    np.testing.assert_allclose(b, a, rtol=1e-13)
    assert list(ds.state_dict()) == list(ts.state_dict())


def test_user_defined_scheduler_matches_torch():
    def make(base):
        class Warmup(base):
            def __init__(self, optimizer, warmup=4, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                f = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [b * f for b in self.base_lrs]
        return Warmup

    topt, dopt_ = _opts()
    ts, ds = make(tls.LRScheduler)(topt), make(dls.LRScheduler)(dopt_)
    for _ in range(8):
        topt.step()
        dopt_.step()
        ts.step()
        ds.step()
        assert ds.get_last_lr() == ts.get_last_lr()
    assert list(ds.state_dict()) == list(ts.state_dict())
    assert dls._LRScheduler is dls.LRScheduler
