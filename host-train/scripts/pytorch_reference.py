#!/usr/bin/env python3
"""The study's CNN and training loop in PyTorch (CPU, or `--device cuda`), for speed and accuracy
comparison with host-train.

Same model (PyTorch default init), batch 128, SGD(lr, momentum) or `--optimizer` (host-train's optimizer
table as JSON: AdamW, the schedulefree package's SGDScheduleFree / AdamWScheduleFree), cross-entropy,
reshuffled every epoch,
test evaluation (batch 256) after every epoch. Prints one JSON object on stdout:
{"train_images_per_sec", "eval_images_per_sec", "epochs": [{"train_loss", "test_loss", "test_accuracy"}], ...}

Needs torch and numpy (a venv outside the repo); not used by the tests.
    python3 pytorch_reference.py --subset 12800 --epochs 1 --threads 2
"""
import argparse, gzip, json, os, struct, sys, time

import numpy as np
import torch
from torch import nn

# The network, defined once for every PyTorch script: the trajectory fixture's generator builds it from
# the same layer list as host-train's `model = { conv = [...] }`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/golden/trajectory"))
from generate import STUDY_CONV, Net, make_optimizer  # noqa: E402


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, rows, cols)
    assert magic == 0x801, path
    return np.frombuffer(data, np.uint8, offset=8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--subset", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda (host-train's --device cuda)")
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--conv", default=",".join(map(str, STUDY_CONV)),
                    help="channels of each convolution (host-train's model.conv; default: the study's)")
    ap.add_argument("--optimizer", default=None,
                    help='host-train\'s optimizer table as JSON, e.g. \'{"kind": "AdamW"}\' (default: SGD with --momentum)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz")[: a.subset], dtype=torch.float32) / 255.0
    ytr = torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz")[: a.subset], dtype=torch.long)
    xte = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
    yte = torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    xtr, ytr, xte, yte = (t.to(a.device) for t in (xtr, ytr, xte, yte))
    model = Net([int(c) for c in a.conv.split(",")]).to(a.device)
    loss_fn = nn.CrossEntropyLoss()
    run = {"lr": a.lr, "momentum": a.momentum}
    if a.optimizer:
        run["optimizer"] = json.loads(a.optimizer)
    opt = make_optimizer(run, model.parameters())
    # Schedule-Free's modes (the others have none): y while training, the average x while evaluating.
    mode = lambda name: getattr(opt, name, lambda: None)()
    train_s = eval_s = 0.0
    epochs = []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        mode("train")
        perm = torch.randperm(len(ytr)).to(a.device)
        losses = []
        for i in range(0, len(ytr), 128):
            idx_b = perm[i : i + 128]
            loss = loss_fn(model(xtr[idx_b]), ytr[idx_b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        train_s += time.perf_counter() - t0
        t1 = time.perf_counter()
        mode("eval")
        with torch.no_grad():
            tl, correct = 0.0, 0
            for i in range(0, len(yte), 256):
                out = model(xte[i : i + 256])
                tl += loss_fn(out, yte[i : i + 256]).item() * len(out)
                correct += (out.argmax(1) == yte[i : i + 256]).sum().item()
        eval_s += time.perf_counter() - t1
        epochs.append({"train_loss": float(np.mean(losses)), "test_loss": tl / len(yte), "test_accuracy": correct / len(yte)})
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": a.threads, "device": a.device,
        "train_images_per_sec": a.epochs * len(ytr) / train_s,
        "eval_images_per_sec": a.epochs * len(yte) / eval_s,
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
