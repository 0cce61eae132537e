"""Times PyTorch CPU products for bench/gemm.ts.

Usage: python3 bench/_torch_gemm.py THREADS CASES_JSON
CASES_JSON is a list of {"M", "N", "K", "batch", "transA", "transB", "reps"}; prints one JSON
list of minimum seconds per product, in the same order (the minimum: other processes on a shared
machine only add time). torch.mm for batch 1, torch.bmm otherwise; transposed operands are
transposed views, as a caller would pass them.
"""

import json
import sys
import time

import torch


def operands(case):
    g = torch.Generator().manual_seed(0)
    b, m, n, k = case["batch"], case["M"], case["N"], case["K"]
    a = torch.randn((b, k, m) if case["transA"] else (b, m, k), generator=g)
    w = torch.randn((b, n, k) if case["transB"] else (b, k, n), generator=g)
    a = a.transpose(1, 2) if case["transA"] else a
    w = w.transpose(1, 2) if case["transB"] else w
    if b == 1:
        return torch.mm, a[0], w[0]
    return torch.bmm, a, w


def min_seconds(case):
    fn, a, w = operands(case)
    for _ in range(3):
        fn(a, w)
    best = float("inf")
    for _ in range(case["reps"]):
        t0 = time.perf_counter()
        fn(a, w)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    torch.set_num_threads(int(sys.argv[1]))
    cases = json.loads(sys.argv[2])
    with torch.no_grad():
        print(json.dumps([min_seconds(c) for c in cases]))


if __name__ == "__main__":
    main()
