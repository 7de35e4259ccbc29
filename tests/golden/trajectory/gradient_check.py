#!/usr/bin/env python3
"""Per-step gradient accuracy of a host-train build against PyTorch float64, along one fixture run.

A trajectory test compares losses, which a chaotic run amplifies; this separates "an operation is
inaccurate" from "the run amplifies rounding". For each of the run's first STEPS steps it takes the
parameters of PyTorch's float64 run at that step (rounded to f32, as host-train reads them) and that
step's batch, has host-train take one SGD step with momentum there (its momentum buffer after one step is
the gradient), and prints how far each gradient lands from float64's at the same parameters:
|g - g64| / |g64| per tensor, the worst tensor per step.

    /root/torch-venv/bin/python tests/golden/trajectory/gradient_check.py --bin target/release/host-train
    ... --engine candle                            candle's path on the CPU
    ... --bin <--features cuda build> --device cuda   candle's CUDA path (scripts/gpu-check.sh's binary)
    ... --fixture trajectory-optimizers --run adamw   another fixture's run (its own optimizer's trajectory)

Needs torch, numpy and safetensors (and schedulefree for its runs), like generate.py.
"""
import argparse, gzip, os, subprocess, sys, tempfile, tomllib

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as g  # noqa: E402

# The one-step fixture host-train trains: SGD with momentum, so the buffer after one step is the gradient.
ONE_STEP = """epochs = 1
batch_size = {batch}
seed = 0
{model}
[[run]]
name = "g"
lr = 0.01
momentum = 0.9
step = "batch"
schedule = {{ kind = "Fixed" }}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the host-train binary")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--engine", default="kernels", help="host-train's --engine: kernels or candle")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for host-train (repeatable)")
    ap.add_argument("--fixture", default="trajectory", help="a folder of tests/golden")
    ap.add_argument("--run", default="sgd-momentum", help="the fixture run whose trajectory is followed")
    ap.add_argument("--steps", type=int, default=36)
    a = ap.parse_args()
    fx = os.path.join(HERE, "..", a.fixture)
    cfg = tomllib.load(open(f"{fx}/config.toml", "rb"))
    run = next((r for r in cfg["run"] if r["name"] == a.run), None)
    if run is None:
        sys.exit(f"--run: no run {a.run!r} in {fx}/config.toml")
    conv = cfg.get("model", {}).get("conv", g.STUDY_CONV)
    batch = cfg["batch_size"]
    data_dir = f"{HERE}/data"
    raw = {n: g.read_idx(f"{data_dir}/{n}.gz") for n in
           ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]}
    xtr = g.images(raw["train-images-idx3-ubyte"]).double()
    ytr = g.labels(raw["train-labels-idx1-ubyte"])
    model = g.Net(conv).double()
    model.load_state_dict({k: v.double() for k, v in load_file(f"{fx}/init.safetensors").items()})
    opt = g.make_optimizer(run, model.parameters())
    sched = g.make_scheduler(run, opt)
    getattr(opt, "train", lambda: None)()
    model_line = f"model = {{ conv = [{', '.join(map(str, conv))}] }}" if conv != g.STUDY_CONV else ""
    env = dict(os.environ, HOST_TRAIN_NO_PROGRESS="1", **dict(e.split("=", 1) for e in a.env))
    print(f"{a.fixture} {a.run}, {a.bin} --device {a.device} --engine {a.engine} {' '.join(a.env)}: |g - g64| / |g64|, worst tensor per step")
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(a.steps):
            i = k % (len(ytr) // batch) * batch
            step = f"{tmp}/s{k}"
            os.makedirs(f"{step}/data")
            f32 = {n: p.detach().float().contiguous() for n, p in model.state_dict().items()}
            save_file(f32, f"{step}/init.safetensors")
            for n, r in raw.items():
                cut = g.subset_idx(r, batch, start=i) if n.startswith("train") else r
                with gzip.GzipFile(f"{step}/data/{n}.gz", "wb", mtime=0) as f:
                    f.write(cut)
            with open(f"{step}/config.toml", "w") as f:
                f.write(ONE_STEP.format(batch=batch, model=model_line))
            # float64's gradient at the f32-rounded parameters, the ones host-train starts from.
            at = g.Net(conv).double()
            at.load_state_dict({n: p.double() for n, p in f32.items()})
            torch.nn.functional.cross_entropy(at(xtr[i : i + batch]), ytr[i : i + batch]).backward()
            ref = {n: p.grad for n, p in at.named_parameters()}
            out = subprocess.run([a.bin, "bench", "--no-plots", "--order", "file", "--device", a.device, "--engine", a.engine,
                                  "--config", f"{step}/config.toml", "--data", f"{step}/data",
                                  "--init", f"{step}/init.safetensors", "--test-subset", str(batch),
                                  "--out", f"{step}/out"], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"step {k}: host-train failed:\n{out.stderr}")
            ours = load_file(f"{step}/out/runs/g-seed0/model-epoch001.safetensors")
            errs = {n: ((ours[f"momentum_buffer.{n}"].double() - r).norm() / r.norm()).item() for n, r in ref.items()}
            worst = max(errs, key=errs.get)
            print(f"step {k:2d}: {errs[worst]:.1e} ({worst})", flush=True)
            # The run's own next step, in float64.
            loss = torch.nn.functional.cross_entropy(model(xtr[i : i + batch]), ytr[i : i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()


if __name__ == "__main__":
    main()
