#!/usr/bin/env python3
"""Golden LR range tests, made by the real fastai and Lightning: sched-core's LrFinder must agree.

Writes `cases/<name>.json` next to this script, one per curve. Every case is a sequence of raw
per-step losses; the script feeds it, one loss per step, through fastai 2.8's own
`Learner.lr_find` (a one-weight model whose loss function returns the next recorded loss), once
per suggestion function, and through Lightning's own `_LRFinder.suggestion` on the curve fastai
recorded. Nothing of fastai's or Lightning's logic is re-implemented here.

The `cnn_*` curves are recorded first by a real fastai `lr_find` of the study's CNN on real
Fashion-MNIST (SGD, batch 128), with a callback that keeps each step's raw loss; the others are
edge cases written out below.

    /root/torch-venv/bin/pip install torch numpy safetensors fastai lightning   # safetensors: ../trajectory/generate.py
    /root/torch-venv/bin/python tests/golden/lr_find/generate.py [--data /usr/share/datasets/fashion-mnist]

Case schema (non-finite numbers are the strings "NaN", "inf", "-inf"):
  start_lr, end_lr, num_iter, mode ("exponential" | "linear"), stop_div: the range test's arguments
  losses       the raw loss of step 0, 1, ... (the test may stop before using them all)
  expected.lrs, expected.smoothed   fastai's Recorder.lrs (f64) and Recorder.losses (f32) after lr_find
  expected.suggestions.<name>       {"lr": what the reference returns, "index": the recorded point it
                                    comes from} or null where the reference raises (fastai) or
                                    returns None (Lightning)
"""
import argparse, importlib.util, inspect, json, math, os, sys, tempfile
from functools import partial

import numpy as np
import torch
from torch import nn

import fastai
from fastai.basics import Learner, Callback, DataLoaders, DataLoader, SGD, set_seed
from fastai.callback.schedule import valley, steep, minimum, slide, SchedLin
from fastai.callback import schedule as fastai_schedule
import lightning
from lightning.pytorch.tuner.lr_finder import _LRFinder

HERE = os.path.dirname(os.path.abspath(__file__))
FASTAI = {"valley": valley, "steep": steep, "minimum": minimum, "slide": slide}


def enc(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def f32(x):
    return float(np.float32(x))


class Replay(nn.Module):
    """A loss function that returns the recorded losses in order, attached to the model's one weight."""

    def __init__(self, losses):
        super().__init__()
        self.losses, self.i = losses, 0

    def forward(self, pred, target):
        v = self.losses[min(self.i, len(self.losses) - 1)]
        self.i += 1
        return (pred * 0).sum() + torch.tensor(v, dtype=torch.float32)


def replay_learner(losses, tmp):
    xs = [(torch.zeros(1), torch.zeros(1)) for _ in range(8)]
    dls = DataLoaders(DataLoader(xs, bs=1), DataLoader(xs[:1], bs=1), device="cpu")
    return Learner(dls, nn.Linear(1, 1), loss_func=Replay(losses), opt_func=SGD, path=tmp)


def run_fastai(case, func, tmp):
    """fastai's lr_find on the case's losses, with one suggestion function (None: none)."""
    learn = replay_learner(case["losses"], tmp)
    kw = dict(start_lr=case["start_lr"], end_lr=case["end_lr"], num_it=case["num_iter"],
              stop_div=case["stop_div"], show_plot=False)
    if case["mode"] == "linear":
        # fastai has no linear mode: its own LRFinder with its own linear annealer in place of SchedExp.
        orig = fastai_schedule.LRFinder.__init__

        def init(self, *a, **k):
            orig(self, *a, **k)
            self.scheds = {"lr": SchedLin(case["start_lr"], case["end_lr"])}
        fastai_schedule.LRFinder.__init__ = init
    try:
        with learn.no_bar():
            try:
                out = learn.lr_find(suggest_funcs=(func,) if func else None, **kw)
                value = None if func is None else float(out[0])
            except (IndexError, ValueError, RuntimeError):
                value = None
    finally:
        if case["mode"] == "linear":
            fastai_schedule.LRFinder.__init__ = orig
    return learn.recorder.lrs, [float(l) for l in learn.recorder.losses], value


def index_of(lrs, value, divided=False):
    """The recorded point a fastai suggestion comes from (fastai returns only the lr)."""
    if value is None:
        return None
    hits = [i for i, lr in enumerate(lrs) if (f32(lr) / 10 if divided else f32(lr)) == value]
    assert len(hits) == 1, (value, hits)
    return hits[0]


def make_case(case, tmp):
    lrs, smoothed, _ = run_fastai(case, None, tmp)
    suggestions = {}
    for name, func in FASTAI.items():
        lrs2, smoothed2, value = run_fastai(case, func, tmp)
        assert lrs2 == lrs and str(smoothed2) == str(smoothed), "fastai's lr_find is not deterministic"
        i = index_of(lrs, value, divided=(name == "minimum"))
        suggestions[name] = None if value is None else {"lr": value, "index": i}
    finder = _LRFinder(mode=case["mode"], lr_min=case["start_lr"], lr_max=case["end_lr"], num_training=case["num_iter"])
    finder.results = {"lr": [f32(l) for l in lrs], "loss": smoothed}
    value = finder.suggestion()
    suggestions["lightning"] = None if value is None else {"lr": value, "index": finder._optimal_idx}
    out = dict(case)
    out["losses"] = [enc(l) for l in case["losses"]]
    out["expected"] = {"lrs": lrs, "smoothed": [enc(l) for l in smoothed], "suggestions": suggestions}
    return out


# ---- the study's CNN, trained by fastai's lr_find -------------------------------------------------

def _trajectory_module():
    """tests/golden/trajectory/generate.py, where the study's CNN (`Net`) and the IDX readers are written."""
    path = os.path.join(HERE, "..", "trajectory", "generate.py")
    spec = importlib.util.spec_from_file_location("trajectory_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRAJECTORY = _trajectory_module()


class RawLoss(Callback):
    def before_fit(self):
        self.raw = []

    def after_batch(self):
        if self.training:
            self.raw.append(float(self.learn.loss))


def cnn_curve(data, mom, num_iter, seed, tmp):
    set_seed(seed)
    t = TRAJECTORY
    x = t.images(t.read_idx(os.path.join(data, "train-images-idx3-ubyte.gz")))
    y = t.labels(t.read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")))
    n = 128 * (num_iter + 2)
    ds = list(zip(x[:n], y[:n]))
    dls = DataLoaders(DataLoader(ds, bs=128, shuffle=True), DataLoader(ds[:128], bs=128), device="cpu")
    rec = RawLoss()
    learn = Learner(dls, TRAJECTORY.Net(), loss_func=nn.CrossEntropyLoss(), opt_func=partial(SGD, mom=mom), cbs=[rec], path=tmp)
    with learn.no_bar():
        learn.lr_find(num_it=num_iter, show_plot=False)
    return rec.raw


def edge_cases():
    rng = np.random.default_rng(0)
    i = np.arange(100)
    lr = 1e-7 * 1e8 ** (i / 100)
    # A textbook curve: flat, falling from lr 1e-4, a minimum near 1e-1, then exploding.
    bowl = 2.3 - 1.5 / (1 + np.exp(-(np.log10(lr) + 3.5) * 2)) + np.where(lr > 0.1, (lr - 0.1) * 30, 0)
    cases = {
        "textbook": ("a smooth fall and explosion", bowl.tolist(), {}),
        "noisy": ("the textbook curve with noise (sd 0.15)", (bowl + rng.normal(0, 0.15, 100)).tolist(), {}),
        "nan_midway": ("a NaN loss at step 50", bowl[:50].tolist() + [float("nan")] * 50, {}),
        "inf_midway": ("an infinite loss at step 40", bowl[:40].tolist() + [float("inf")] * 60, {}),
        "nan_first": ("NaN from the first step", [float("nan")] * 100, {}),
        "diverge_first": ("the loss explodes at the second step", [2.3] + [1e4] * 99, {}),
        "flat": ("a constant loss", [2.302585] * 100, {}),
        "rising": ("a loss that only rises", np.linspace(1.0, 3.0, 100).tolist(), {}),
        "short_num_iter6": ("fastai's minimum of 6 steps", [2.3, 2.2, 2.1, 2.0, 1.9, 1.8], {"num_iter": 6}),
        "short_num_iter20": ("20 steps: too few for slide", bowl[::5].tolist(), {"num_iter": 20}),
        "no_stop_div": ("an explosion with stop_div=False", bowl.tolist(), {"stop_div": False}),
        "linear_mode": ("a linear sweep from 0.001 to 0.5",
                        (2.3 - 1.2 * np.sin(np.linspace(0, 2.5, 100)) + np.linspace(0, 1, 100) ** 6 * 8).tolist(),
                        {"mode": "linear", "start_lr": 1e-3, "end_lr": 0.5}),
        "long_300": ("300 steps from 1e-6 to 1", (2.3 - 1.4 / (1 + np.exp(-(np.linspace(-6, 0, 300) + 2.5) * 2))
                                                  + np.where(np.linspace(-6, 0, 300) > -0.7, 40, 0)
                                                  + rng.normal(0, 0.05, 300)).tolist(),
                     {"num_iter": 300, "start_lr": 1e-6, "end_lr": 1.0}),
    }
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    versions = {"fastai_version": fastai.__version__, "lightning_version": lightning.__version__,
                "torch_version": torch.__version__}
    sig = inspect.signature(Learner.lr_find).parameters
    defaults = {"start_lr": sig["start_lr"].default, "end_lr": sig["end_lr"].default,
                "num_iter": sig["num_it"].default, "stop_div": sig["stop_div"].default,
                "beta": inspect.signature(fastai.learner.Recorder.__init__).parameters["beta"].default,
                "lightning_early_stop_threshold":
                    inspect.signature(lightning.pytorch.tuner.lr_finder._lr_find).parameters["early_stop_threshold"].default}
    base = {"start_lr": defaults["start_lr"], "end_lr": defaults["end_lr"], "num_iter": defaults["num_iter"],
            "mode": "exponential", "stop_div": True}
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for mom, seed in [(0.0, 0), (0.9, 1), (0.95, 2)]:
            name = f"cnn_sgd_mom{str(mom).replace('.', '')}_seed{seed}"
            raw = cnn_curve(args.data, mom, defaults["num_iter"], seed, tmp)
            cases.append(dict(base, name=name, description=f"fastai lr_find of the study's CNN, SGD momentum {mom}, "
                              f"batch 128, seed {seed}, real Fashion-MNIST", losses=raw))
            print(name, len(raw), "steps", file=sys.stderr)
        for name, (desc, losses, over) in edge_cases().items():
            cases.append(dict(base, name=name, description=desc, losses=losses, **over))
        os.makedirs(os.path.join(HERE, "cases"), exist_ok=True)
        for case in cases:
            out = dict(make_case(case, tmp), **versions)
            with open(os.path.join(HERE, "cases", case["name"] + ".json"), "w") as f:
                json.dump(out, f, indent=1, allow_nan=False)
                f.write("\n")
            print(case["name"], {k: v and v["index"] for k, v in out["expected"]["suggestions"].items()}, file=sys.stderr)
    with open(os.path.join(HERE, "defaults.json"), "w") as f:
        json.dump(dict(defaults, **versions), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
