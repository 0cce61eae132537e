"""Times PyTorch doing the work of bench/mdm.ts on the same MDM architecture (the reference
model of tools/make_golden.py, built from torch.nn modules), on the device named by
MOTION_GRPO_TORCH_DEVICE (cpu, the default, or cuda; float32, TF32 off).

Usage: python3 bench/_torch_mdm.py THREADS CASES_JSON
CASES_JSON is a list of {"nfeats", "latent", "layers", "ff", "heads", "mask_frames", "B", "T",
"steps", "reps"}; prints {"torch": description, "cases": [[fwd+bwd seconds (minimum over reps
after a warm-up), rollout seconds], ...]}. fwd+bwd runs in train mode (dropout is 0, so it equals eval) with
autograd; the rollout runs in eval mode under no_grad, as PyTorch users sample.
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _torch_common import describe, from_bt, make_mdm, now, setup, to_bt, torch_device  # noqa: E402

DEVICE = torch_device()


def cosine_tables(steps):
    def abar(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - abar((i + 1) / steps) / abar(i / steps), 0.999) for i in range(steps)]
    ac, prev, acs, c1, c2 = 1.0, [], [], [], []
    for b in betas:
        prev.append(ac)
        ac *= 1 - b
        acs.append(ac)
    pv = [b * (1 - p) / (1 - a) for b, p, a in zip(betas, prev, acs)]
    for b, p, a in zip(betas, prev, acs):
        c1.append(b * math.sqrt(p) / (1 - a))
        c2.append((1 - p) * math.sqrt(1 - b) / (1 - a))
    logvar = [math.log(pv[1])] + [math.log(v) for v in pv[1:]]
    return c1, c2, logvar


def inputs(case, B, g):
    T, d = case["T"], DEVICE
    return {
        "x": torch.randn(B, T, case["nfeats"], generator=g, device=d),
        "t": torch.tensor([(11 * b + 3) % 50 for b in range(B)], device=d),
        "text": torch.randn(B, 512, generator=g, device=d),
        "cond_mask": torch.ones(B, device=d),
        "lengths": torch.tensor([T - 7 * b for b in range(B)], device=d),
    }


def make_model(case):
    return make_mdm(case, DEVICE)


def fwd_bwd(case, g):
    model = make_model(case).train()
    inp = inputs(case, case["B"], g)
    dout = torch.randn(case["B"], case["T"], case["nfeats"], generator=g, device=DEVICE)
    best = float("inf")
    for i in range(case["reps"] + 1):
        t0 = now(DEVICE)
        model.zero_grad()
        out = to_bt(model(from_bt(inp["x"]), inp["t"], inp["text"], inp["cond_mask"], inp["lengths"]))
        out.backward(dout)
        if i > 0:
            best = min(best, now(DEVICE) - t0)
    return best


def rollout(case, g):
    model = make_model(case).eval()
    B, s = case["B"], 2.5
    inp = inputs(case, 2 * B, g)
    inp["cond_mask"][B:] = 0
    c1, c2, logvar = cosine_tables(case["steps"])
    x = torch.randn(B, case["T"], case["nfeats"], generator=g, device=DEVICE)
    with torch.no_grad():
        t0 = now(DEVICE)
        for t in reversed(range(case["steps"])):
            xin = torch.cat((x, x), dim=0)
            tt = torch.full((2 * B,), t, dtype=torch.long, device=DEVICE)
            out = to_bt(model(from_bt(xin), tt, inp["text"], inp["cond_mask"], inp["lengths"]))
            cond, uncond = out[:B], out[B:]
            x0 = uncond + s * (cond - uncond)
            mean = c1[t] * x0 + c2[t] * x
            if t > 0:
                x = mean + math.exp(0.5 * logvar[t]) * torch.randn(x.shape, generator=g, device=DEVICE)
            else:
                x = mean
        return now(DEVICE) - t0


def main():
    setup(DEVICE, int(sys.argv[1]))
    g = torch.Generator(device=DEVICE).manual_seed(0)
    torch.manual_seed(0)
    cases = json.loads(sys.argv[2])
    rows = [[fwd_bwd(c, g), rollout(c, g)] for c in cases]
    print(json.dumps({"torch": describe(DEVICE), "cases": rows}))


if __name__ == "__main__":
    main()
