"""How much could per-pixel regularisation buy FVSBN? An optimistic bound, in PyTorch.

FVSBN is D independent logistic regressions, so each pixel's penalty could be chosen on its own. This trains FVSBN on
the standard binarized MNIST split (50,000 training images, ../shared/data) once per penalty strength s (L1 = L2 = s on
the weights, added to the mean minibatch NLL; Adam 3e-3, batch 100, cosine decay), records each pixel's mean
validation NLL, and reports the best uniform penalty against the oracle that picks every pixel's best penalty on the
validation images themselves (optimistic: a real selection would choose on held-out training rows).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 samples/reference/fvsbn_penalty_oracle.py [--epochs 20] 1e-4 0 1e-5 3e-5 3e-4
"""
import argparse
import gzip
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")


def load(name):
    with gzip.open(os.path.join(SHARED, name), "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "i" * rank, data[4:4 + 4 * rank])
    images = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims[0], -1)
    return torch.from_numpy(images.astype(np.float32))


def per_pixel_validation_nll(train, valid, strength, epochs):
    d = train.shape[1]
    mask = torch.tril(torch.ones(d, d), -1)  # logit i reads pixels j < i
    w = torch.zeros(d, d, requires_grad=True)
    p = train.mean(0).clamp(1e-3, 1 - 1e-3)
    b = torch.log(p / (1 - p)).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([w, b], lr=3e-3)
    steps, step = epochs * (len(train) // 100), 0
    for _ in range(epochs):
        order = torch.randperm(len(train))
        for i in range(0, len(train), 100):
            for group in optimizer.param_groups:
                group["lr"] = 3e-3 * 0.5 * (1 + math.cos(math.pi * step / steps))
            x = train[order[i:i + 100]]
            masked = w * mask
            nll = F.binary_cross_entropy_with_logits(x @ masked.t() + b, x, reduction="sum") / len(x)
            loss = nll + strength * (masked * masked).sum() + strength * masked.abs().sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
    with torch.no_grad():
        logits = valid @ (w * mask).t() + b
        return F.binary_cross_entropy_with_logits(logits, valid, reduction="none").mean(0).numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("strengths", nargs="+", type=float)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the numbers in the README were measured on one thread
    torch.manual_seed(1)
    train = load("binarized-mnist-train-idx3-ubyte.gz")
    valid = load("binarized-mnist-valid-idx3-ubyte.gz")
    table = []
    for s in args.strengths:
        table.append(per_pixel_validation_nll(train, valid, s, args.epochs))
        print(f"penalty {s:g}: validation NLL {table[-1].sum():.3f} nats", flush=True)
    table = np.stack(table)
    print(f"best uniform penalty: {table.sum(1).min():.3f} nats; per-pixel oracle: {table.min(0).sum():.3f} nats")


if __name__ == "__main__":
    main()
