"""PyTorch reference for MLNetAr's `score` benchmark: batched scoring throughput (log-likelihood of every image, no
gradient) of the same architectures, on the same 1000 test digits, in batches of 256.

Scoring speed does not depend on the weights, so the models keep their initial weights. Run with Debian's PyTorch and
OpenBLAS, 2 threads (see samples/reference/ar_models.py):
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=COOPERLAKE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 samples/reference/score.py [--only made,pixelcnn]
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

from ar_models import Fvsbn, GatedPixelCnn, Made, NadeLoop, Nade, PixelRnn, WaveNet, digits


class MadeEnsemble(torch.nn.Module):
    """MADE with K connectivities (random orders, degrees per mask): log p(x) = logsumexp_k log p_k(x) - log K."""

    def __init__(self, d, hidden, masks):
        super().__init__()
        self.made = Made(d, hidden)
        sizes = [d] + hidden + [d]
        self.masks = []
        rng = np.random.RandomState(0)
        for _ in range(masks):
            order = rng.permutation(d)
            degrees = [np.argsort(order)]
            for h in hidden:
                degrees.append(rng.randint(degrees[-1].min(), d - 1, size=h))
            layer_masks = [torch.from_numpy((m_out[:, None] >= m_in[None, :]).astype(np.float32)) for m_in, m_out in zip(degrees, degrees[1:])]
            layer_masks.append(torch.from_numpy((degrees[0][:, None] > degrees[-1][None, :]).astype(np.float32)))
            self.masks.append([m * layer.weight.detach() for m, layer in zip(layer_masks, self.made.layers)])

    def log_likelihood(self, x):
        parts = []
        for weights in self.masks:
            h = x
            for w, layer in zip(weights[:-1], self.made.layers[:-1]):
                h = F.relu(F.linear(h, w, layer.bias))
            z = F.linear(h, weights[-1], self.made.layers[-1].bias)
            parts.append(-F.binary_cross_entropy_with_logits(z, x, reduction="none").sum(1))
        return torch.logsumexp(torch.stack(parts, 1), 1) - np.log(len(self.masks))


def bernoulli_log_likelihood(model):
    return lambda x: -F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(1)


def models(d):
    made_ensemble = MadeEnsemble(d, [500, 500], 32)
    return {
        "FVSBN": bernoulli_log_likelihood(Fvsbn(d)),
        "NADE H=500 (loop)": bernoulli_log_likelihood(NadeLoop(d, 500)),
        "NADE H=500 (cumsum)": bernoulli_log_likelihood(Nade(d, 500)),
        "MADE 1x500": bernoulli_log_likelihood(Made(d, [500])),
        "MADE 2x500, 32-mask ensemble": made_ensemble.log_likelihood,
        "PixelCNN 5x32": bernoulli_log_likelihood(GatedPixelCnn(5, 32, 3, 32)),
        "WaveNet 12 blocks x32": bernoulli_log_likelihood(WaveNet([1, 2, 4, 8, 16, 32] * 2, 32, 32, 32)),
        "pixel LSTM H=64": bernoulli_log_likelihood(PixelRnn("lstm", 64, 1)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    _, _, test = digits()
    results = []
    for name, log_likelihood in models(test.shape[1]).items():
        if args.only and not any(o.lower() in name.lower() for o in args.only.split(",")):
            continue
        with torch.no_grad():
            def run():
                for i in range(0, len(test), args.batch):
                    log_likelihood(test[i:i + args.batch])
            run()
            rates = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                run()
                rates.append(len(test) / (time.perf_counter() - t0))
        rates.sort()
        results.append({"model": name, "batch": args.batch, "median": round(rates[len(rates) // 2], 1), "best": round(rates[-1], 1)})
        print(f"{name}: median {results[-1]['median']} images/s, best {results[-1]['best']}", flush=True)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
