#!/usr/bin/env python3
"""Golden training trajectory of the study's CNN, made by PyTorch: host-train's trainer must follow it.

Writes, next to this script:
  data/        the first 640 training and 500 test images of Fashion-MNIST (IDX .gz, as distributed)
  init.safetensors   PyTorch's default init (torch.manual_seed(0)), state_dict names seq.0.weight ... seq.7.bias
  config.toml  the run config host-train trains (2 runs, 2 epochs of 20 batches of 32, file order)
  expected.json      per run: the loss of every optimizer step, the test loss and accuracy after each
                     epoch, and how far the same run in float64 lands from float32 (the noise floor)

Runs: OneCycleLR (max_lr 0.05, total_steps 40, with its momentum cycling 0.95 -> 0.85 -> 0.95) and plain
SGD with momentum 0.9 at lr 0.01, both stepped per batch, on the images in file order (no shuffle).

`--set optimizers` (into tests/golden/trajectory-optimizers, on this folder's data): the other optimizers,
each by its reference: torch.optim.AdamW (plain, and amsgrad with OneCycleLR cycling beta1), torch.optim.SGD
with nesterov and weight decay, and with dampening, and the `schedulefree` package's SGDScheduleFree and
AdamWScheduleFree (with warmup; optimizer.train() before each epoch's training, optimizer.eval() before its
test, as the package asks).

`--set rmsprop` (into tests/golden/trajectory-rmsprop, on this folder's data): torch.optim.RMSprop plain (alpha
0.99, eps 1e-8), with momentum and weight decay, centered (alpha 0.9), and with momentum and eps 1e-6 under
OneCycleLR, which overwrites the group's `momentum` (0.95 at construction, cycled 0.95 -> 0.85 -> 0.95) since
RMSprop has a `momentum` default. RMSprop's first step is a sign step of lr / sqrt(1 - alpha) per element (10 lr
at alpha 0.99), so its lrs are small (3e-5 to 1e-4): at 5e-4 to 1e-3, and for some of these runs at 2e-4, the
runs are chaotic (their f32 and f64 runs part by 1e-3 to 3e-2).

`--set groups` (into tests/golden/trajectory-groups, on this folder's data): param groups and hyperparameter
schedules. SGD with two groups (the convolutions; the linear layer at its own lr and weight decay) under
OneCycleLR with PyTorch's per-group `max_lr` list; AdamW with two groups (their own lr, betas and weight decay)
under CosineAnnealingLR, the weight decay of each group on a cosine from its own value; SGD's momentum on a
LinearLR; AdamW's beta2 on a LinearLR. A hyperparameter's schedule is written as a PyTorch user writes one: a
scheduler on a stand-in optimizer whose groups' lrs start at the option's values, copied into the option before
each `optimizer.step()` (`HyperSchedules`).

`--set radam` (into tests/golden/trajectory-radam, on this folder's data): torch.optim.RAdam plain, with L2
weight decay (added to the gradient), with decoupled weight decay (the parameter scaled by 1 - lr * wd) and betas
(0.9, 0.99), and with eps 1e-6 under OneCycleLR (which cycles betas[0]). RAdam's rectification is off while
rho_t <= 5, i.e. for steps 1-5 (an SGD-with-momentum step of lr times the bias-corrected first moment) and on
from step 6 (for beta2 0.999 and 0.99 alike), so the 40 steps cover both branches.

    /root/torch-venv/bin/pip install torch numpy safetensors schedulefree
    /root/torch-venv/bin/python tests/golden/trajectory/generate.py --set optimizers \
        --out tests/golden/trajectory-optimizers
    /root/torch-venv/bin/python tests/golden/trajectory/generate.py --set rmsprop --out tests/golden/trajectory-rmsprop
    /root/torch-venv/bin/python tests/golden/trajectory/generate.py --set radam --out tests/golden/trajectory-radam
    /root/torch-venv/bin/python tests/golden/trajectory/generate.py --set groups --out tests/golden/trajectory-groups

    /root/torch-venv/bin/pip install torch numpy safetensors
    /root/torch-venv/bin/python tests/golden/trajectory/generate.py [--data /usr/share/datasets/fashion-mnist]

Another network (a run config's `model = { conv = [...] }`), into another folder that uses this one's data/:

    /root/torch-venv/bin/python tests/golden/trajectory/generate.py --conv 64,32,16 --lr-scale 0.1,0.2 \
        --out tests/golden/trajectory-64-32-16
"""
import argparse, gzip, json, os, struct, warnings

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN, TEST, BATCH, EPOCHS = 640, 500, 32, 2
RUNS = [
    {"name": "one-cycle", "lr": 0.05, "momentum": 0.0,
     "schedule": {"kind": "OneCycleLR", "max_lr": 0.05, "total_steps": EPOCHS * TRAIN // BATCH}},
    {"name": "sgd-momentum", "lr": 0.01, "momentum": 0.9, "schedule": {"kind": "Fixed"}},
]
FIXED = {"kind": "Fixed"}
OPTIMIZER_RUNS = [
    {"name": "adamw", "lr": 0.001, "optimizer": {"kind": "AdamW"}, "schedule": FIXED},
    {"name": "adamw-amsgrad-one-cycle", "lr": 0.002,
     "optimizer": {"kind": "AdamW", "amsgrad": True, "weight_decay": 0.05, "betas": [0.9, 0.99]},
     "schedule": {"kind": "OneCycleLR", "max_lr": 0.002, "total_steps": EPOCHS * TRAIN // BATCH}},
    {"name": "sgd-nesterov-weight-decay", "lr": 0.005,
     "optimizer": {"kind": "SGD", "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, "schedule": FIXED},
    {"name": "sgd-dampening", "lr": 0.02,
     "optimizer": {"kind": "SGD", "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}, "schedule": FIXED},
    {"name": "sgd-schedule-free", "lr": 0.05,
     "optimizer": {"kind": "SGDScheduleFree", "warmup_steps": 10, "weight_decay": 0.01}, "schedule": FIXED},
    {"name": "adamw-schedule-free", "lr": 0.0025,
     "optimizer": {"kind": "AdamWScheduleFree", "warmup_steps": 10, "weight_decay": 0.01, "r": 0.5},
     "schedule": FIXED},
]
RMSPROP_RUNS = [
    {"name": "rmsprop", "lr": 5e-05, "optimizer": {"kind": "RMSprop"}, "schedule": FIXED},
    {"name": "rmsprop-momentum-weight-decay", "lr": 3e-05,
     "optimizer": {"kind": "RMSprop", "momentum": 0.9, "weight_decay": 0.01}, "schedule": FIXED},
    {"name": "rmsprop-centered", "lr": 0.0001, "optimizer": {"kind": "RMSprop", "alpha": 0.9, "centered": True},
     "schedule": FIXED},
    # OneCycleLR sets the group's momentum to 0.95 at construction and cycles it: the 0.9 here is never used.
    {"name": "rmsprop-momentum-one-cycle", "lr": 8e-05,
     "optimizer": {"kind": "RMSprop", "momentum": 0.9, "eps": 1e-06},
     "schedule": {"kind": "OneCycleLR", "max_lr": 8e-05, "total_steps": EPOCHS * TRAIN // BATCH}},
]
RADAM_RUNS = [
    {"name": "radam", "lr": 0.003, "optimizer": {"kind": "RAdam"}, "schedule": FIXED},
    {"name": "radam-weight-decay", "lr": 0.004, "optimizer": {"kind": "RAdam", "weight_decay": 0.1},
     "schedule": FIXED},
    {"name": "radam-decoupled-weight-decay", "lr": 0.001,
     "optimizer": {"kind": "RAdam", "betas": [0.9, 0.99], "weight_decay": 0.1, "decoupled_weight_decay": True},
     "schedule": FIXED},
    # OneCycleLR cycles betas[0] (0.95 -> 0.85 -> 0.95); RAdam's bias correction takes the current beta1 ** step.
    {"name": "radam-one-cycle", "lr": 0.005, "optimizer": {"kind": "RAdam", "eps": 1e-06},
     "schedule": {"kind": "OneCycleLR", "max_lr": 0.005, "total_steps": EPOCHS * TRAIN // BATCH}},
]
TOTAL = EPOCHS * TRAIN // BATCH
# Param groups (the network's layers 0-2 are its convolutions, 3 its linear layer) and hyperparameter schedules.
GROUP_RUNS = [
    # PyTorch's per-group max_lr: each group's OneCycleLR from its own max_lr, the head with its own weight decay.
    {"name": "sgd-two-groups-one-cycle", "lr": 0.05, "optimizer": {"kind": "SGD", "momentum": 0.9},
     "param_groups": [{"layers": [0, 1, 2]}, {"layers": [3], "lr": 0.01, "weight_decay": 0.001}],
     "schedule": {"kind": "OneCycleLR", "max_lr": [0.05, 0.01], "total_steps": TOTAL}},
    # Groups with their own betas and weight decay, and the weight decay of each on a cosine from its own value
    # (large, so that the schedule shows in the loss: each step scales the weights by 1 - lr * weight_decay).
    {"name": "adamw-two-groups-weight-decay-schedule", "lr": 0.002,
     "optimizer": {"kind": "AdamW", "weight_decay": 10.0},
     "param_groups": [{"layers": [0, 1]}, {"layers": [2, 3], "lr": 0.001, "betas": [0.9, 0.99], "weight_decay": 25.0}],
     "schedule": {"kind": "CosineAnnealingLR", "T_max": TOTAL, "eta_min": 0.0001},
     "hyperparameters": {"weight_decay": {"kind": "CosineAnnealingLR", "T_max": TOTAL}}},
    # SGD's momentum on a schedule (0.45 -> 0.9 over 20 steps) under a constant lr.
    {"name": "sgd-momentum-schedule", "lr": 0.02, "optimizer": {"kind": "SGD", "momentum": 0.9},
     "schedule": {"kind": "Fixed"},
     "hyperparameters": {"momentum": {"kind": "LinearLR", "start_factor": 0.5, "total_iters": 20}}},
    # Adam's beta2 on a schedule (0.9 -> 0.999 over the run), beta1 left as it is.
    {"name": "adamw-beta2-schedule", "lr": 0.002, "optimizer": {"kind": "AdamW"},
     "schedule": {"kind": "Fixed"},
     "hyperparameters": {"betas": [{"kind": "Fixed"},
                                   {"kind": "LinearLR", "start_factor": 0.9 / 0.999, "total_iters": TOTAL}]}},
]
RUN_SETS = {"sgd": RUNS, "optimizers": OPTIMIZER_RUNS, "rmsprop": RMSPROP_RUNS, "radam": RADAM_RUNS,
            "groups": GROUP_RUNS}


def make_optimizer(run, params):
    """The run's optimizer by its reference (host-train's `optimizer` table, or SGD with `momentum`).
    `params`: the model's parameters, or with `param_groups` PyTorch's list of group dicts."""
    o = dict(run.get("optimizer", {"kind": "SGD", "momentum": run.get("momentum", 0.0)}))
    kind = o.pop("kind")
    if "betas" in o:
        o["betas"] = tuple(o["betas"])
    if kind in ("SGDScheduleFree", "AdamWScheduleFree"):
        import schedulefree
        return getattr(schedulefree, kind)(params, lr=run["lr"], **o)
    return getattr(torch.optim, kind)(params, lr=run["lr"], **o)


def make_scheduler(run, opt):
    """The run's per-batch schedule on `opt` (None for "Fixed")."""
    return build_schedule(run["schedule"], opt)


def build_schedule(s, opt):
    """A schedule spec (the kinds these fixtures use) as PyTorch's scheduler on `opt`; None for "Fixed"."""
    kw = {k: v for k, v in s.items() if k != "kind"}
    if s["kind"] == "Fixed":
        return None
    return getattr(torch.optim.lr_scheduler, s["kind"])(opt, **kw)


def param_groups(run, model):
    """PyTorch's param groups of a run with `param_groups`: each group's layers' parameters (layer i < the
    number of convolutions: seq[2 i]; the last: the linear layer) and its options."""
    modules = [m for m in model.seq if isinstance(m, (nn.Conv2d, nn.Linear))]
    groups = []
    for g in run["param_groups"]:
        group = {k: (tuple(v) if k == "betas" else v) for k, v in g.items() if k != "layers"}
        group["params"] = [p for i in g["layers"] for p in modules[i].parameters()]
        groups.append(group)
    return groups


class HyperSchedules:
    """Each hyperparameter schedule as a PyTorch user writes one: a scheduler on a stand-in optimizer whose
    groups' lrs start at the option's value in each group; before each step its lrs go into the option."""

    def __init__(self, run, opt):
        self.opt, self.parts = opt, []
        for name, spec in run.get("hyperparameters", {}).items():
            for index, s in (enumerate(spec) if isinstance(spec, list) else [(None, spec)]):
                bases = [g[name] if index is None else g[name][index] for g in opt.param_groups]
                stand_in = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": b}
                                            for b in bases], lr=bases[0], momentum=0.0)
                self.parts.append((name, index, stand_in, build_schedule(s, stand_in)))

    def apply(self):
        for name, index, stand_in, _ in self.parts:
            for group, source in zip(self.opt.param_groups, stand_in.param_groups):
                if index is None:
                    group[name] = source["lr"]
                else:
                    values = list(group[name])
                    values[index] = source["lr"]
                    group[name] = tuple(values)

    def step(self):
        for *_, sched in self.parts:
            if sched is not None:
                with warnings.catch_warnings():
                    # The stand-in optimizer never steps; its scheduler only counts.
                    warnings.simplefilter("ignore", UserWarning)
                    sched.step()


def read_idx(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def subset_idx(raw, n, start=0):
    """Records start..start+n of an IDX file, with the count in the header changed to n."""
    magic = struct.unpack(">I", raw[:4])[0]
    if magic == 0x803:
        rows, cols = struct.unpack(">II", raw[8:16])
        return raw[:4] + struct.pack(">I", n) + raw[8:16] + raw[16 + start * rows * cols : 16 + (start + n) * rows * cols]
    assert magic == 0x801
    return raw[:4] + struct.pack(">I", n) + raw[8 + start : 8 + start + n]


def images(raw):
    n, rows, cols = struct.unpack(">III", raw[4:16])
    return torch.tensor(np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, rows, cols), dtype=torch.float32) / 255.0


def labels(raw):
    return torch.tensor(np.frombuffer(raw, np.uint8, offset=8), dtype=torch.long)


STUDY_CONV = [32, 16, 8]


class Net(nn.Module):
    """3x3 "same" convolutions with ReLU of `conv` channels each, flatten, linear to 10 classes: host-train's
    network for `model = { conv = [...] }` (the study's: [32, 16, 8]), with the same state_dict names."""

    def __init__(self, conv=STUDY_CONV):
        super().__init__()
        layers, cin = [], 1
        for cout in conv:
            layers += [nn.Conv2d(cin, cout, 3, padding="same"), nn.ReLU()]
            cin = cout
        self.seq = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * 28 * 28, 10))

    def forward(self, x):
        return self.seq(x)


def train(run, init, data, dtype, conv):
    xtr, ytr, xte, yte = (t.to(dtype) if t.is_floating_point() else t for t in data)
    model = Net(conv).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init.items()})
    opt = make_optimizer(run, param_groups(run, model) if "param_groups" in run else model.parameters())
    hyper = HyperSchedules(run, opt)
    # Schedule-Free keeps y (where gradients are taken) in the parameters while training and the average
    # x while evaluating; the others have no modes.
    mode = lambda name: getattr(opt, name, lambda: None)()
    sched = make_scheduler(run, opt)
    loss_fn = nn.CrossEntropyLoss()
    steps, epochs = [], []
    for _ in range(EPOCHS):
        model.train()
        mode("train")
        for i in range(0, len(ytr), BATCH):
            loss = loss_fn(model(xtr[i : i + BATCH]), ytr[i : i + BATCH])
            opt.zero_grad()
            loss.backward()
            hyper.apply()
            opt.step()
            if sched is not None:
                sched.step()
            hyper.step()
            steps.append(loss.item())
        mode("eval")
        with torch.no_grad():
            out = model(xte)
            epochs.append({"test_loss": loss_fn(out, yte).item(),
                           "test_accuracy": (out.argmax(1) == yte).sum().item() / len(yte)})
    return steps, epochs


def toml_value(v):
    """A value as TOML (inline tables and arrays)."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--conv", default=",".join(map(str, STUDY_CONV)),
                    help="channels of each convolution, e.g. 64,32,16 (default: the study's)")
    ap.add_argument("--out", default=HERE, help="the fixture's folder (default: this one, with data/)")
    ap.add_argument("--set", default="sgd", choices=sorted(RUN_SETS),
                    help="which runs: sgd (the study's optimizer; default), optimizers (AdamW, SGD's options, "
                         "Schedule-Free), rmsprop or radam")
    ap.add_argument("--lr-scale", default="1",
                    help="scales the runs' lr (and max_lr): one factor, or one per run (comma-separated); a "
                         "wider network at the study's lrs is chaotic (its f32 and f64 runs part by more than "
                         "the test's tolerance)")
    a = ap.parse_args()
    factors = [float(f) for f in a.lr_scale.split(",")]
    base = RUN_SETS[a.set]
    factors = factors * len(base) if len(factors) == 1 else factors
    assert len(factors) == len(base), f"--lr-scale: one factor, or one per run ({len(base)})"
    # Rounded: 0.05 * 0.2 is 0.01, not 0.010000000000000002.
    runs = [{**r, "lr": round(r["lr"] * f, 12),
             "schedule": {k: round(v * f, 12) if k == "max_lr" and f != 1 else v for k, v in r["schedule"].items()}}
            for r, f in zip(base, factors)]
    conv = [int(c) for c in a.conv.split(",")]
    out_dir = os.path.abspath(a.out)
    torch.set_num_threads(1)
    os.makedirs(f"{HERE}/data", exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    raw = {}
    for name, n in [("train-images-idx3-ubyte", TRAIN), ("train-labels-idx1-ubyte", TRAIN),
                    ("t10k-images-idx3-ubyte", TEST), ("t10k-labels-idx1-ubyte", TEST)]:
        # Another network's fixture trains on this one's data/ (already the subset).
        src = a.data if out_dir == HERE else f"{HERE}/data"
        raw[name] = subset_idx(read_idx(f"{src}/{name}.gz"), n)
        if out_dir == HERE:
            with gzip.GzipFile(f"{HERE}/data/{name}.gz", "wb", mtime=0) as f:
                f.write(raw[name])
    data = (images(raw["train-images-idx3-ubyte"]), labels(raw["train-labels-idx1-ubyte"]),
            images(raw["t10k-images-idx3-ubyte"]), labels(raw["t10k-labels-idx1-ubyte"]))

    from safetensors.torch import save_file  # here: pytorch_reference.py imports Net without it

    torch.manual_seed(0)
    init = {k: v.detach().clone().contiguous() for k, v in Net(conv).state_dict().items()}
    save_file(init, f"{out_dir}/init.safetensors")

    data_note = "" if out_dir == HERE else " --data tests/golden/trajectory/data"
    toml = [f"# Made by generate.py: {EPOCHS} epochs of {TRAIN // BATCH} batches; train with --order file --init init.safetensors{data_note}",
            f"epochs = {EPOCHS}", f"batch_size = {BATCH}", "seed = 0"]
    if conv != STUDY_CONV:
        toml.append(f"model = {{ conv = [{', '.join(map(str, conv))}] }}")
    toml.append("")
    out = {"torch": torch.__version__, "conv": conv, "train_images": TRAIN, "test_images": TEST, "batch_size": BATCH, "runs": []}
    if a.set == "optimizers":
        from importlib.metadata import version
        out["schedulefree"] = version("schedulefree")
    for run in runs:
        steps, epochs = train(run, init, data, torch.float32, conv)
        steps64, epochs64 = train(run, init, data, torch.float64, conv)
        rel = max(abs(a - b) / abs(b) for a, b in zip(steps, steps64))
        out["runs"].append({"name": run["name"], "step_losses": steps, "epochs": epochs,
                            "f32_vs_f64_max_rel_step_loss": rel,
                            "f32_vs_f64_rel_final_test_loss": abs(epochs[-1]["test_loss"] - epochs64[-1]["test_loss"]) / epochs64[-1]["test_loss"]})
        sched = ", ".join(f"{k} = {toml_value(v)}" for k, v in run["schedule"].items())
        if "optimizer" in run:
            setting = f"optimizer = {toml_value(run['optimizer'])}"
        else:
            setting = f"momentum = {run['momentum']}"
        toml += ["[[run]]", f'name = "{run["name"]}"', f"lr = {run['lr']}", setting,
                 'step = "batch"', f"schedule = {{ {sched} }}"]
        toml += [f"{key} = {toml_value(run[key])}" for key in ("param_groups", "hyperparameters") if key in run]
        toml.append("")
        print(f"{run['name']}: loss {steps[0]:.4f} -> {steps[-1]:.4f}, test accuracy {epochs[-1]['test_accuracy']:.3f}, "
              f"f32 vs f64: step loss {rel:.2e}, final test loss {out['runs'][-1]['f32_vs_f64_rel_final_test_loss']:.2e}")
    with open(f"{out_dir}/config.toml", "w") as f:
        f.write("\n".join(toml))
    with open(f"{out_dir}/expected.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
