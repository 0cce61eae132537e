"""Times one GRPO step in PyTorch, the work of bench/grpo.ts (train/grpo/grpo_step.ts) on the
reference MDM of tools/make_golden.py, on the device named by MOTION_GRPO_TORCH_DEVICE (cpu or
cuda; float32, TF32 off):

1. rollout under no_grad: per DDPM step one forward on the doubled batch [cond; uncond], guided
   x0 = uncond + s (cond - uncond), mean = coef1 x0 + coef2 x, x' = mean + std eps; every
   stochastic step records x, x' and the squared distance of x' to the mean over valid elements;
2. reward = minus the mean squared root velocity (features 1 and 2) over valid frames of the final
   motion, on the host; group-normalised advantages (population std + 1e-4);
3. for each trained transition: reference x0 (frozen copy, no_grad), policy x0 on the doubled
   batch with autograd, Gaussian log-probs averaged over valid elements, ratio against the
   rollout's, clipped surrogate + beta mean(KL), (loss / K).backward(); with "transition_batch"
   P > 1, P transitions share one reference call, one policy call (each on P doubled batches,
   every sample with its own timestep) and one backward, as the engine's `transitionBatch`;
4. clip_grad_norm_(max_grad_norm), torch.optim.AdamW(weight_decay=0).step().

Usage: python3 bench/_torch_grpo.py THREADS CASE_JSON
CASE_JSON: {"nfeats", "latent", "layers", "ff", "heads", "text_dim", "mask_frames", "B", "G",
"T", "steps", "trained" (null = every stochastic step), "reps", "guidance", "clip_eps",
"kl_beta", "lr", "max_grad_norm", "transition_batch" (optional, default 1), "run_steps" (optional, default 0)}. Prints
{"torch", "ms" (minimum over reps after one warm-up step), "run_ms" (per step over run_steps
consecutive steps, null without them), "trained", "peak_bytes", "peak_kind"}: on cuda torch.cuda.max_memory_allocated() over the
whole run, on cpu the process's own peak resident set (VmHWM).
"""

import copy
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _torch_common import (  # noqa: E402
    describe,
    from_bt,
    make_mdm,
    now,
    process_peak_bytes,
    setup,
    to_bt,
    torch_device,
)
from _torch_mdm import cosine_tables  # noqa: E402

DEVICE = torch_device()


class Step:
    """Models, optimiser and fixed inputs of the benchmarked GRPO step."""

    def __init__(self, c, g):
        self.c = c
        N, T, F = c["B"] * c["G"], c["T"], c["nfeats"]
        self.N, self.T, self.F = N, T, F
        self.policy = make_mdm(c, DEVICE, c["text_dim"])
        self.ref = copy.deepcopy(self.policy).eval().requires_grad_(False)
        self.opt = torch.optim.AdamW(self.policy.parameters(), lr=c["lr"], weight_decay=0.0)
        text = torch.randn(c["B"], c["text_dim"], generator=g, device=DEVICE)
        text = text.repeat_interleave(c["G"], dim=0)  # groups contiguous
        self.text2 = torch.cat((text, text), 0)
        self.cond2 = torch.cat((torch.ones(N, device=DEVICE), torch.zeros(N, device=DEVICE)))
        self.lengths = torch.full((N,), T, dtype=torch.long, device=DEVICE)
        self.len2 = torch.cat((self.lengths, self.lengths))
        frames = (torch.arange(T, device=DEVICE)[None, :] < self.lengths[:, None]).float()
        self.valid = frames[:, :, None].expand(N, T, F)  # (N, T, F)
        self.frames = frames  # (N, T)
        self.count = (self.lengths * F).float()  # (N)
        self.c1, self.c2, logvar = cosine_tables(c["steps"])
        self.std = [math.exp(0.5 * v) if t > 0 else 0.0 for t, v in enumerate(logvar)]

    def guided(self, model, x, t):
        N, s = self.N, self.c["guidance"]
        tt = torch.full((2 * N,), t, dtype=torch.long, device=DEVICE)
        out = to_bt(model(from_bt(torch.cat((x, x), 0)), tt, self.text2, self.cond2, self.len2))
        cond, uncond = out[:N], out[N:]
        return uncond + s * (cond - uncond)

    def guided_many(self, model, chunk):
        """Guided x0 of several transitions (t, x, ...) in one call: [cond; uncond] per transition."""
        N, s = self.N, self.c["guidance"]
        xs = torch.cat([torch.cat((x, x), 0) for _, x, _, _ in chunk], 0)
        tt = torch.cat([torch.full((2 * N,), t, dtype=torch.long, device=DEVICE) for t, _, _, _ in chunk])
        P = len(chunk)
        out = to_bt(model(from_bt(xs), tt, self.text2.repeat(P, 1), self.cond2.repeat(P), self.len2.repeat(P)))
        res = []
        for j in range(P):
            cond, uncond = out[2 * N * j : 2 * N * j + N], out[2 * N * j + N : 2 * N * (j + 1)]
            res.append(uncond + s * (cond - uncond))
        return res

    def rollout(self, g):
        recs = []
        self.policy.eval()
        with torch.no_grad():
            x = torch.randn(self.N, self.T, self.F, generator=g, device=DEVICE)
            for t in reversed(range(self.c["steps"])):
                mean = self.c1[t] * self.guided(self.policy, x, t) + self.c2[t] * x
                if self.std[t] > 0:
                    nxt = mean + self.std[t] * torch.randn(x.shape, generator=g, device=DEVICE)
                    sq = ((nxt - mean) ** 2 * self.valid).sum((1, 2))
                    recs.append((t, x, nxt, sq))
                else:
                    nxt = mean
                x = nxt
        self.policy.train()
        return x, recs

    def advantages(self, x0):
        """Reward on the host, then (r - group mean) / (population group std + 1e-4)."""
        host = x0.cpu()
        frames = self.frames.cpu()
        r = -((host[:, :, 1] ** 2 + host[:, :, 2] ** 2) * frames).sum(1) / frames.sum(1)
        r = r.double().view(self.c["B"], self.c["G"])
        a = (r - r.mean(1, keepdim=True)) / (r.std(1, unbiased=False, keepdim=True) + 1e-4)
        return a.view(-1).float().to(DEVICE)

    def step(self, g):
        c = self.c
        x0, recs = self.rollout(g)
        adv = self.advantages(x0)
        if c["trained"] is not None and c["trained"] < len(recs):
            pick = torch.randperm(len(recs), generator=torch.Generator().manual_seed(len(recs)))
            recs = [recs[i] for i in sorted(pick[: c["trained"]].tolist())]
        K, eps, beta = len(recs), c["clip_eps"], c["kl_beta"]
        self.opt.zero_grad()
        total = torch.zeros((), device=DEVICE)
        P = max(1, c.get("transition_batch") or 1)
        for start in range(0, K, P):
            chunk = recs[start : start + P]
            with torch.no_grad():
                x0_ref = self.guided_many(self.ref, chunk)
            x0_pol = self.guided_many(self.policy, chunk)
            loss = torch.zeros((), device=DEVICE)
            for j, (t, x, nxt, sq_old) in enumerate(chunk):
                var = self.std[t] ** 2
                lognorm = math.log(self.std[t]) + 0.5 * math.log(2 * math.pi)
                mean_ref = self.c1[t] * x0_ref[j] + self.c2[t] * x
                mean = self.c1[t] * x0_pol[j] + self.c2[t] * x
                logp = -((nxt - mean) ** 2 * self.valid).sum((1, 2)) / (2 * var * self.count) - lognorm
                logp_old = -sq_old / (2 * var * self.count) - lognorm
                kl = ((mean - mean_ref) ** 2 * self.valid).sum((1, 2)) / (2 * var * self.count)
                ratio = torch.exp(logp - logp_old)
                surr = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 1 - eps, 1 + eps)).mean()
                loss = loss + (surr + beta * kl.mean()) / K
            loss.backward()
            total += loss.detach()
        torch.nn.utils.clip_grad_norm_(self.policy.parameters(), c["max_grad_norm"])
        self.opt.step()
        return total.item(), K


def main():
    setup(DEVICE, int(sys.argv[1]))
    c = json.loads(sys.argv[2])
    torch.manual_seed(0)
    g = torch.Generator(device=DEVICE).manual_seed(0)
    st = Step(c, g)
    st.step(g)  # warm-up: allocator, kernels, optimiser state
    best, K = float("inf"), 0
    for _ in range(c["reps"]):
        t0 = now(DEVICE)
        _, K = st.step(g)
        best = min(best, now(DEVICE) - t0)
    # consecutive steps, as a training loop runs them (each ends with its loss read back)
    runs, run = c.get("run_steps", 0), None
    if runs > 0:
        t0 = now(DEVICE)
        for _ in range(runs):
            st.step(g)
        run = (now(DEVICE) - t0) / runs
    if DEVICE.type == "cuda":
        peak, kind = torch.cuda.max_memory_allocated(DEVICE), "torch.cuda.max_memory_allocated"
    else:
        peak, kind = process_peak_bytes()
    print(
        json.dumps(
            {
                "torch": describe(DEVICE),
                "ms": best * 1e3,
                "run_ms": None if run is None else run * 1e3,
                "trained": K,
                "peak_bytes": peak,
                "peak_kind": kind,
            }
        )
    )


if __name__ == "__main__":
    main()
