"""PyTorch references for MLNetAr's density models, same configuration and data protocol.

digits10k (the repo's embedded copy), binarised at 0.5: first 8000 train / next 1000 validation / last 1000 test.
Adam, batch 100, natural order; reports test NLL at the best validation epoch, seconds per epoch and the time to
sample 1,000 images the usual way (one full forward pass per pixel).

Run with Debian's PyTorch and OpenBLAS (apt-get install python3-torch libopenblas0-pthread), 2 threads, naming the
CPU's OpenBLAS core (see samples/reference/gemm.py):
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=COOPERLAKE OPENBLAS_NUM_THREADS=2 \
        /usr/bin/python3 samples/reference/ar_models.py fvsbn|nade|made [--epochs 30] [--hidden 500] [--lr 1e-3]
        /usr/bin/python3 samples/reference/ar_models.py pixelcnn [--layers 5 --channels 32 --kernel 3 --head 32] --samples 10
        /usr/bin/python3 samples/reference/ar_models.py wavenet [--dilations 1,2,4,...] [--channels 32 --head 32] --samples 10
        /usr/bin/python3 samples/reference/ar_models.py lstm|gru --hidden 64 --layers 1 --samples 10
Grey levels (PixelCNN): --data fashion reads ../shared/data/fashion-mnist (images 0-47,999 train, 48,000-49,999
validation, 50,000-59,999 test, as MLNetAr's fashion benchmark) at 256 levels; --levels K quantises to K levels with a
K-way softmax per pixel, --mixture M uses MLNetAr's discretised logistic mixture instead (exact bins, log scales
clamped to [-7, 7]). NLLs are then also reported in bits per dimension.
        /usr/bin/python3 samples/reference/ar_models.py pixelcnn --data fashion --levels 256 --mixture 5 --samples 0
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "i" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def digits():
    images = load_idx(os.path.join(ROOT, "data", "digits10k", "digits10k-images-idx3-ubyte.gz"))
    x = torch.from_numpy((images.reshape(len(images), -1) / 255.0 > 0.5).astype(np.float32))
    return x[:8000], x[8000:9000], x[9000:]


def fashion(levels):
    """Fashion-MNIST's official training set split as MLNetAr's fashion benchmark splits it, values level/(K-1)."""
    images = load_idx(os.path.join(ROOT, "..", "shared", "data", "fashion-mnist", "fashion-train-images-idx3-ubyte.gz"))
    x = np.round(images.reshape(len(images), -1) / 255.0 * (levels - 1)) / (levels - 1)
    x = torch.from_numpy(x.astype(np.float32))
    return x[:48000], x[48000:50000], x[50000:60000]


def log_likelihood(out, x, levels, mixture):
    """log p(x) per image (nats) from the model's outputs: (B, D) Bernoulli logits, (B, K, D) softmax logits, or
    (B, 3M, D) mixture outputs (logits, means, log scales), MLNetAr's pixel distributions."""
    if levels == 2:
        return -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
    level = torch.round(x * (levels - 1)).long()
    if mixture == 0:
        return torch.gather(F.log_softmax(out, 1), 1, level.unsqueeze(1)).squeeze(1).sum(1)
    m = mixture
    pi, mean, log_scale = out[:, :m], out[:, m:2 * m], torch.clamp(out[:, 2 * m:], -7.0, 7.0)
    out64 = [t.double() for t in (pi, mean, log_scale)]
    pi, mean, log_scale = out64
    c = (2.0 * level.double() / (levels - 1) - 1).unsqueeze(1)
    h = 1.0 / (levels - 1)
    inv = torch.exp(-log_scale)
    a, b = inv * (c + h - mean), inv * (c - h - mean)
    low = a - F.softplus(a)
    high = -F.softplus(b)
    interior = a - F.softplus(a) - F.softplus(b) + torch.log(-torch.expm1(b - a))
    lvl = level.unsqueeze(1).expand_as(a)
    component = torch.where(lvl == 0, low, torch.where(lvl == levels - 1, high, interior))
    return torch.logsumexp(F.log_softmax(pi, 1) + component, 1).sum(1).float()


class Fvsbn(nn.Module):
    """p(x_i=1|x_<i) = sigmoid(b_i + sum_{j<i} W_ij x_j), W strictly lower triangular."""

    def __init__(self, d):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(d, d))
        self.b = nn.Parameter(torch.zeros(d))
        self.register_buffer("mask", torch.tril(torch.ones(d, d), -1))

    def forward(self, x):
        return x @ (self.w * self.mask).t() + self.b


class Nade(nn.Module):
    """NADE with the cumulative-sum formulation: a_t = c + sum_{s<t} W_s x_s, all t at once (B, D, H)."""

    def __init__(self, d, h):
        super().__init__()
        self.w = nn.Parameter(torch.empty(d, h).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d)))
        self.c = nn.Parameter(torch.zeros(h))
        self.v = nn.Parameter(torch.empty(d, h).uniform_(-1 / math.sqrt(h), 1 / math.sqrt(h)))
        self.b = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        contrib = x.unsqueeze(2) * self.w.unsqueeze(0)                      # (B, D, H)
        a = self.c + torch.cumsum(contrib, dim=1) - contrib                 # exclusive cumsum: inputs before t
        h = torch.sigmoid(a)
        return (h * self.v.unsqueeze(0)).sum(-1) + self.b                    # (B, D)


class NadeLoop(Nade):
    """The same NADE as a loop over pixels with (B, H) tensors: O(H·D) per image, like MLNetAr's recurrence."""

    def forward(self, x):
        a = self.c.expand(x.shape[0], -1)
        logits = []
        for t in range(x.shape[1]):
            h = torch.sigmoid(a)
            logits.append(h @ self.v[t] + self.b[t])
            a = a + x[:, t:t + 1] * self.w[t]
        return torch.stack(logits, dim=1)


class MaskedLinear(nn.Linear):
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", torch.ones(n_out, n_in))

    def forward(self, x):
        return F.linear(x, self.mask * self.weight, self.bias)


class Made(nn.Module):
    """MADE (Germain et al. 2015) with one set of degrees, natural order, ReLU hidden layers."""

    def __init__(self, d, hidden, seed=0):
        super().__init__()
        sizes = [d] + hidden + [d]
        self.layers = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes, sizes[1:]))
        rng = np.random.RandomState(seed)
        degrees = [np.arange(1, d + 1)]
        for h in hidden:
            degrees.append(rng.randint(degrees[-1].min(), d, size=h))
        for layer, m_in, m_out in zip(self.layers[:-1], degrees, degrees[1:]):
            layer.mask.copy_(torch.from_numpy((m_out[:, None] >= m_in[None, :]).astype(np.float32)))
        self.layers[-1].mask.copy_(torch.from_numpy((degrees[0][:, None] > degrees[-1][None, :]).astype(np.float32)))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def nll(model, x, levels=2, mixture=0, batch=500):
    with torch.no_grad():
        return -sum(log_likelihood(model(x[i:i + batch]), x[i:i + batch], levels, mixture).sum().item()
                    for i in range(0, len(x), batch)) / len(x)


class GatedPixelCnn(nn.Module):
    """MLNetAr's gated PixelCNN: vertical stack strictly above the row (no down-shift needed), horizontal stack to the
    left, v->h link from the vertical pre-activation, residual h, head ReLU-1x1-ReLU-1x1. Same taps as CausalConv2d."""

    def __init__(self, layers, channels, k, head, side=28, outputs=1):
        super().__init__()
        self.h, self.side = k // 2, side
        c, h = channels, k // 2
        self.v = nn.ModuleList([nn.Conv2d(1 if l == 0 else c, 2 * c, (h + 1, k)) for l in range(layers)])
        self.hz = nn.ModuleList([nn.Conv2d(1 if l == 0 else c, 2 * c, (1, h if l == 0 else h + 1)) for l in range(layers)])
        self.link = nn.ModuleList([nn.Conv2d(2 * c, 2 * c, 1) for _ in range(layers)])
        self.out = nn.ModuleList([nn.Conv2d(c, c, 1) for _ in range(layers)])
        self.head1, self.head2 = nn.Conv2d(c, head, 1), nn.Conv2d(head, outputs, 1)
        self.outputs = outputs

    @staticmethod
    def gate(t):
        a, g = t.chunk(2, 1)
        return torch.tanh(a) * torch.sigmoid(g)

    def forward(self, x):
        b, s, h = x.shape[0], self.side, self.h
        img = x.view(b, 1, s, s)
        v, hh = img, img
        for l in range(len(self.v)):
            if l == 0:   # rows i-h-1 .. i-1, columns j-h .. j+h
                vp = self.v[l](F.pad(v, (h, h, h + 1, 0)))[:, :, :s]
                hp = self.hz[l](F.pad(hh, (h, 0, 0, 0)))[:, :, :, :s]      # columns j-h .. j-1
            else:        # rows i-h .. i; columns j-h .. j
                vp = self.v[l](F.pad(v, (h, h, h, 0)))
                hp = self.hz[l](F.pad(hh, (h, 0, 0, 0)))
            hp = hp + self.link[l](vp)
            hn = self.out[l](self.gate(hp))
            hh = hn if l == 0 else hh + hn
            v = self.gate(vp)
        out = self.head2(F.relu(self.head1(F.relu(hh))))
        return out.view(b, -1) if self.outputs == 1 else out.view(b, self.outputs, -1)


class WaveNet(nn.Module):
    """MLNetAr's WaveNet over the raster sequence: causal kernel-2 input conv, gated dilated blocks with residual and
    skip 1x1s (no residual after the last block), head ReLU-1x1-ReLU-1x1."""

    def __init__(self, dilations, channels, skip, head):
        super().__init__()
        c = channels
        self.dilations = dilations
        self.causal = nn.Conv1d(1, c, 2)
        self.dilated = nn.ModuleList([nn.Conv1d(c, 2 * c, 2, dilation=d) for d in dilations])
        self.skip = nn.ModuleList([nn.Conv1d(c, skip, 1) for _ in dilations])
        self.res = nn.ModuleList([nn.Conv1d(c, c, 1) for _ in dilations[:-1]])
        self.head1, self.head2 = nn.Conv1d(skip, head, 1), nn.Conv1d(head, 1, 1)

    def forward(self, x):
        b, t = x.shape
        r = self.causal(F.pad(x.view(b, 1, t), (2, 0)))[:, :, :t]          # x[t-2], x[t-1]
        total = 0
        for l, d in enumerate(self.dilations):
            a, g = self.dilated[l](F.pad(r, (d, 0))).chunk(2, 1)           # r[t-d], r[t]
            z = torch.tanh(a) * torch.sigmoid(g)
            total = total + self.skip[l](z)
            if l < len(self.res):
                r = r + self.res[l](z)
        return self.head2(F.relu(self.head1(F.relu(total)))).view(b, -1)


class PixelRnn(nn.Module):
    """MLNetAr's pixel RNN: LSTM/GRU over the raster sequence reading [x_{t-1}, x_{t-W}], logit = V h_t + b."""

    def __init__(self, cell, hidden, layers, width=28):
        super().__init__()
        self.width = width
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(2, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        b, d = x.shape
        prev = F.pad(x, (1, 0))[:, :d]
        above = F.pad(x, (self.width, 0))[:, :d]
        h, _ = self.rnn(torch.stack([prev, above], dim=2))
        return self.out(h).squeeze(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["fvsbn", "nade", "made", "pixelcnn", "wavenet", "lstm", "gru"])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--head", type=int, default=32)
    parser.add_argument("--dilations", type=str, default="1,2,4,8,16,32,1,2,4,8,16,32")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=str, default="500")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--nade-impl", choices=["loop", "cumsum"], default="loop")
    parser.add_argument("--data", choices=["digits", "fashion"], default="digits")
    parser.add_argument("--levels", type=int, default=None, help="pixel levels (default: 2, or 256 with fashion)")
    parser.add_argument("--mixture", type=int, default=0, help="discretised logistic mixture components (0: softmax)")
    parser.add_argument("--rows", type=int, default=None, help="use only the first N training images")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    levels = args.levels or (256 if args.data == "fashion" else 2)
    if levels != 2 and args.model != "pixelcnn":
        parser.error("--levels and --data fashion are implemented for pixelcnn")
    train, valid, test = digits() if args.data == "digits" else fashion(levels)
    if args.rows:
        train = train[:args.rows]
    outputs = 1 if levels == 2 else (3 * args.mixture if args.mixture else levels)
    d = train.shape[1]
    hidden = [int(h) for h in args.hidden.split(",")]
    if args.model == "fvsbn":
        model, lr = Fvsbn(d), 3e-3
    elif args.model == "nade":
        model, lr = (NadeLoop if args.nade_impl == "loop" else Nade)(d, hidden[0]), 1e-3
    elif args.model == "pixelcnn":
        model, lr = GatedPixelCnn(args.layers, args.channels, args.kernel, args.head, outputs=outputs), 1e-3
    elif args.model in ("lstm", "gru"):
        model, lr = PixelRnn(args.model, int(args.hidden), args.layers), 1e-3
    elif args.model == "wavenet":
        model, lr = WaveNet([int(v) for v in args.dilations.split(",")], args.channels, args.channels, args.head), 1e-3
    else:
        model, lr = Made(d, hidden), 1e-3
    lr = args.lr or lr
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, epoch_seconds = float("inf"), None, []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(len(train))
        total = 0.0
        for i in range(0, len(train), args.batch):
            x = train[perm[i:i + args.batch]]
            loss = -log_likelihood(model(x), x, levels, args.mixture).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        epoch_seconds.append(time.perf_counter() - t0)
        v = nll(model, valid, levels, args.mixture)
        print(f"epoch {epoch}: train {total / len(train):.3f} valid {v:.3f} ({epoch_seconds[-1]:.2f} s)", flush=True)
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in model.state_dict().items()}
    model.load_state_dict(best_state)

    t0 = time.perf_counter()
    samples = args.samples if levels == 2 else 0    # the timing is of Bernoulli sampling
    with torch.no_grad():
        x = torch.zeros(samples, d)
        for i in range(d if samples else 0):    # one full forward pass per pixel
            p = torch.sigmoid(model(x)[:, i])
            x[:, i] = torch.bernoulli(p)
    sample_seconds = max(time.perf_counter() - t0, 1e-9)
    report = {
        "model": args.model.upper() + ("/" + args.nade_impl if args.model == "nade" else ""), "torch": torch.__version__, "threads": args.threads, "hidden": hidden, "lr": lr,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": args.batch, "epochs": args.epochs, "best_validation_nll": round(best, 3),
        "test_nll_nats": round(nll(model, test, levels, args.mixture), 3),
        "seconds_per_epoch": round(sum(epoch_seconds) / len(epoch_seconds), 3),
        "data": args.data, "levels": levels, "mixture_components": args.mixture,
    }
    if levels > 2:
        report["best_validation_bits_per_dim"] = round(best / (d * math.log(2)), 4)
        report["test_bits_per_dim"] = round(report["test_nll_nats"] / (d * math.log(2)), 4)
    if samples:
        report["sampling_seconds_for_%d" % samples] = round(sample_seconds, 3)
        report["sampling_images_per_second"] = round(samples / sample_seconds, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
