"""Writes tests/golden/diffusion/tables.json: MDM's diffusion tables and respacing, computed with
numpy float64 the way the public gaussian_diffusion.py / respace.py do, plus DDPM transition
log-probs from torch.distributions.Normal. Run: /usr/bin/python3 tools/make_golden_diffusion.py
"""
import json
import math
import os

import numpy as np
import torch


def alpha_bar(t):
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


def cosine_betas(steps):
    return np.array([min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), 0.999)
                     for i in range(steps)], dtype=np.float64)


def tables(betas):
    alphas = 1.0 - betas
    ac = np.cumprod(alphas, axis=0)
    ac_prev = np.append(1.0, ac[:-1])
    pv = betas * (1.0 - ac_prev) / (1.0 - ac)
    return {
        "betas": betas,
        "alphasCumprod": ac,
        "alphasCumprodPrev": ac_prev,
        "posteriorVariance": pv,
        "posteriorLogVarianceClipped": np.log(np.append(pv[1], pv[1:])),
        "posteriorMeanCoef1": betas * np.sqrt(ac_prev) / (1.0 - ac),
        "posteriorMeanCoef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
    }


def spaced(size, count):
    if count == 1:
        return [0]
    stride = (size - 1) / (count - 1)
    cur, out = 0.0, []
    for _ in range(count):
        out.append(round(cur))
        cur += stride
    return out


def respaced_betas(base_betas, kept):
    ac = np.cumprod(1.0 - base_betas)
    last, out = 1.0, []
    for s in kept:
        out.append(1 - ac[s] / last)
        last = ac[s]
    return np.array(out)


def main():
    out = {"T50": {k: v.tolist() for k, v in tables(cosine_betas(50)).items()}}
    t1000 = tables(cosine_betas(1000))
    out["T1000_every37"] = {k: v[::37].tolist() for k, v in t1000.items()}
    out["spaced"] = {f"{a},{b}": spaced(a, b) for a, b in [(1000, 50), (50, 10), (50, 40), (50, 7), (10, 4)]}
    kept = spaced(1000, 50)
    out["respaced_1000_50_betas"] = respaced_betas(cosine_betas(1000), kept).tolist()

    # Transition log-probs: mean over elements of Normal(mean, std).log_prob(x), float64.
    g = torch.Generator().manual_seed(3)
    t50 = tables(cosine_betas(50))
    cases = []
    for t in [1, 10, 49]:
        mean = torch.randn(2, 6, generator=g, dtype=torch.float64)
        std = math.exp(0.5 * t50["posteriorLogVarianceClipped"][t])
        x = mean + std * torch.randn(2, 6, generator=g, dtype=torch.float64)
        lp = torch.distributions.Normal(mean, std).log_prob(x)
        # sample 1 has only its first 4 elements valid
        valid = torch.ones(2, 6, dtype=torch.float64)
        valid[1, 4:] = 0
        lp_mean = (lp * valid).sum(1) / valid.sum(1)
        cases.append({"t": t, "mean": mean.flatten().tolist(), "x": x.flatten().tolist(),
                      "valid": valid.flatten().tolist(), "logp": lp_mean.tolist()})
    out["logprob_cases"] = cases
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "diffusion", "tables.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
