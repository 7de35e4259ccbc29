#!/usr/bin/env python3
"""How far PyTorch's own float32 runs land from a trajectory fixture (itself a PyTorch float32 run on a
CPU): the CPU on 1, 2, 4 and 16 threads and, where there is a GPU, CUDA with cuDNN's default, benchmarked
and disabled (im2col + cuBLAS, as candle does) convolutions, TF32 off. The spread of the reference
itself, against which a host-train path's distance from the fixture is judged (docs/cuda.md).

    /root/torch-venv/bin/python tests/golden/trajectory/pytorch_spread.py trajectory trajectory-optimizers

Prints per fixture run and variant the worst relative step-loss difference and its step, and step 29's.
Needs torch, numpy and safetensors (and schedulefree for trajectory-optimizers), like generate.py.
"""
import json, os, sys, tomllib

import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as g  # noqa: E402

DEVICE = ["cpu"]


class DeviceNet(g.Net):
    """generate.py's network, on DEVICE[0] (generate.train builds its model through g.Net)."""

    def __init__(self, conv=g.STUDY_CONV):
        super().__init__(conv)
        self.to(DEVICE[0])


g.Net = DeviceNet


def variants():
    """Sets up each variant in turn and yields its name."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    for threads in (1, 2, 4, 16):
        torch.set_num_threads(threads)
        DEVICE[0] = "cpu"
        yield f"cpu, {threads} threads"
    if not torch.cuda.is_available():
        print("no GPU: the CUDA variants skipped")
        return
    DEVICE[0] = "cuda"
    yield "cuda, cuDNN default"
    torch.backends.cudnn.benchmark = True
    yield "cuda, cuDNN benchmark"
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.enabled = False
    yield "cuda, no cuDNN (im2col + cuBLAS)"
    torch.backends.cudnn.enabled = True


def main():
    data_dir = f"{HERE}/data"
    data = (g.images(g.read_idx(f"{data_dir}/train-images-idx3-ubyte.gz")),
            g.labels(g.read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz")),
            g.images(g.read_idx(f"{data_dir}/t10k-images-idx3-ubyte.gz")),
            g.labels(g.read_idx(f"{data_dir}/t10k-labels-idx1-ubyte.gz")))
    print(f"torch {torch.__version__}")
    for fx in sys.argv[1:] or ["trajectory"]:
        folder = os.path.join(HERE, "..", fx)
        expected = json.load(open(f"{folder}/expected.json"))
        cfg = tomllib.load(open(f"{folder}/config.toml", "rb"))
        conv = cfg.get("model", {}).get("conv", g.STUDY_CONV)
        init = load_file(f"{folder}/init.safetensors")
        for variant in variants():
            on_device = tuple(t.to(DEVICE[0]) for t in data)
            for run, exp in zip(cfg["run"], expected["runs"]):
                steps, _ = g.train(run, init, on_device, torch.float32, conv)
                errs = [abs(a - b) / abs(b) for a, b in zip(steps, exp["step_losses"])]
                worst = max(errs)
                print(f"{fx} {run['name']:27s} {variant:33s} worst {worst:.2e} at step {errs.index(worst):2d}; "
                      f"step 29 {errs[29]:.2e}", flush=True)


if __name__ == "__main__":
    main()
