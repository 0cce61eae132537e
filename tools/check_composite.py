"""Checks a composite_k{K}_{split}.npy file with numpy alone (layout: datasets/composite/README.md).

Usage: check_composite.py PATH --k K --target_length T --tolerance TOL [--dim F]
Prints a JSON summary on success; exits 1 with one line naming the sample and key otherwise.
"""
import argparse
import json
import sys

import numpy as np


def fail(msg):
    print(f"check_composite: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--target_length", type=int, required=True)
    ap.add_argument("--tolerance", type=int, required=True)
    ap.add_argument("--dim", type=int, default=263)
    a = ap.parse_args()

    data = np.load(a.path, allow_pickle=True)
    if data.dtype != object or data.ndim != 1:
        fail(f"expected a 1-d object array, got {data.dtype} {data.shape}")
    totals = []
    for i, s in enumerate(data):
        where = f"sample {i}"
        if not isinstance(s, dict):
            fail(f"{where} is {type(s).__name__}, not dict")
        for key in ["k", "source_ids", "texts", "tokens", "lengths", "durations", "motion",
                    "segment_ids", "total_length", "fps", "B_matrix"]:
            if key not in s:
                fail(f"{where}: key {key} is missing")
        k = s["k"]
        if k != a.k or len(s["source_ids"]) != k or len(s["texts"]) != k or len(s["tokens"]) != k:
            fail(f"{where}: k / source_ids / texts / tokens disagree with K={a.k}")
        if not all(isinstance(t, str) for t in s["texts"]):
            fail(f"{where}: texts are not str")
        if not all(isinstance(tok, str) and "/" in tok for toks in s["tokens"] for tok in toks):
            fail(f"{where}: tokens are not word/POS str")
        lengths, durations = s["lengths"], s["durations"]
        if lengths.dtype != np.int32 or lengths.shape != (k,):
            fail(f"{where}: lengths is {lengths.dtype} {lengths.shape}")
        if durations.dtype != np.float64 or not np.allclose(durations, lengths / s["fps"]):
            fail(f"{where}: durations != lengths / fps")
        m, seg, T = s["motion"], s["segment_ids"], s["total_length"]
        if m.dtype != np.float32 or m.shape != (T, a.dim) or not m.flags["C_CONTIGUOUS"]:
            fail(f"{where}: motion is {m.dtype} {m.shape}, expected float32 ({T}, {a.dim})")
        if int(lengths.sum()) != T or abs(T - a.target_length) > a.tolerance:
            fail(f"{where}: total_length {T} is not sum(lengths) within {a.target_length}±{a.tolerance}")
        expected_seg = np.repeat(np.arange(k, dtype=np.int32), lengths)
        if seg.dtype != np.int32 or not np.array_equal(seg, expected_seg):
            fail(f"{where}: segment_ids do not follow lengths")
        b = s["B_matrix"]
        if b is not None and (b.shape != (k, k) or not np.all(np.isfinite(b))):
            fail(f"{where}: B_matrix is not a finite ({k}, {k}) array")
        totals.append(T)
    print(json.dumps({
        "samples": len(data),
        "k": a.k,
        "min_total": min(totals) if totals else None,
        "max_total": max(totals) if totals else None,
        "first_source_ids": list(data[0]["source_ids"]) if len(data) else [],
        "first_motion_sum": float(np.float64(data[0]["motion"].sum(dtype=np.float64))) if len(data) else 0.0,
    }))


if __name__ == "__main__":
    main()
