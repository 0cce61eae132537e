"""Writes tests/golden/metrics/metrics.json: reference values of the T2M evaluation metrics
(distance matrix, R-precision, matching score, FID, diversity, multimodality, replication
summary), computed with numpy float64 and scipy.linalg.sqrtm the way MDM's
data_loaders/humanml/utils/metrics.py and eval/eval_humanml.py define them.

Embeddings are stored as base64 little-endian float32 so both sides read identical inputs; all
metrics are computed on their float64 upcast. Deterministic (fixed numpy seed).
Run: /usr/bin/python3 tools/make_metric_fixtures.py
"""
import base64
import json
import os

import numpy as np
from scipy import linalg

OUT = os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "metrics", "metrics.json"))
BATCH = 32


def f32(a):
    """Rounds to float32 (the stored values) and returns them as float64 for the references."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def distances(x, y):
    # Expanded form, as the public evaluator: |x|^2 + |y|^2 - 2 x.y, then the square root.
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.sqrt(np.maximum(sq, 0.0))


def r_precision_and_matching(text, motion, top_k=3):
    # The loaders drop the last partial batch; hits are counted per batch and divided by the
    # number of samples in complete batches.
    n_batches = text.shape[0] // BATCH
    hits = np.zeros(top_k)
    trace = 0.0
    for b in range(n_batches):
        sl = slice(b * BATCH, (b + 1) * BATCH)
        d = distances(text[sl], motion[sl])
        trace += np.trace(d)
        order = np.argsort(d, axis=1)
        truth = np.arange(BATCH)[:, None]
        found = np.cumsum(order[:, :top_k] == truth, axis=1) > 0
        hits += found.sum(0)
    size = n_batches * BATCH
    return (hits / size).tolist(), trace / size, size


def frechet(real, gen):
    mu1, mu2 = real.mean(0), gen.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(gen, rowvar=False)
    root, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    root = root.real  # tiny imaginary parts from rounding, as the public code drops them
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(root))


def main():
    rng = np.random.default_rng(20240611)

    # Text/motion pairs with structure: 8 clusters; each motion is a fixed linear map of its
    # text plus noise, so R-precision lies between chance and 1. N = 100 leaves a partial batch.
    n, d = 100, 16
    centres = rng.normal(size=(8, d)) * 3.0
    text = f32(centres[rng.integers(0, 8, size=n)] + rng.normal(size=(n, d)))
    mix = np.eye(d) + 0.2 * rng.normal(size=(d, d))
    motion = f32(text @ mix + 1.2 * rng.normal(size=(n, d)) + 0.5)
    rates, matching, size = r_precision_and_matching(text, motion)
    matching_all = float(np.linalg.norm(text - motion, axis=1).mean())

    # FID at D = 64 with different means and covariances, and a rank-deficient case
    # (fewer samples than dimensions: both covariances are singular).
    dd = 64
    a_mix = rng.normal(size=(dd, dd)) / np.sqrt(dd)
    real64 = f32(rng.normal(size=(120, dd)) @ a_mix + 0.3)
    b_mix = a_mix + 0.3 * rng.normal(size=(dd, dd)) / np.sqrt(dd)
    gen64 = f32(1.1 * rng.normal(size=(90, dd)) @ b_mix)
    few_real = f32(rng.normal(size=(40, dd)) @ a_mix)
    few_gen = f32(rng.normal(size=(30, dd)) @ b_mix + 0.1)
    cov_real64 = np.cov(real64, rowvar=False)

    # Diversity and multimodality on given index draws (numpy's own random choice).
    first = rng.choice(n, 30, replace=False)
    second = rng.choice(n, 30, replace=False)
    div = float(np.linalg.norm(motion[first] - motion[second], axis=1).mean())
    texts, repeats = 6, 12
    mm = f32(rng.normal(size=(texts, 1, d)) * 2.0 + rng.normal(size=(texts, repeats, d)))
    mm_first = rng.choice(repeats, 5, replace=False)
    mm_second = rng.choice(repeats, 5, replace=False)
    mm_value = float(np.linalg.norm(mm[:, mm_first] - mm[:, mm_second], axis=2).mean())

    # Replication summary as get_metric_statistics: np.mean, np.std (ddof 0), 1.96 std / sqrt(R).
    reps = rng.normal(0.45, 0.01, size=20)

    fixture = {
        "text": {"shape": [n, d], "f32": b64(text)},
        "motion": {"shape": [n, d], "f32": b64(motion)},
        "distRows": 12,
        "distCols": 20,
        "dist": distances(text[:12], motion[:20]).ravel().tolist(),
        "rPrecision": rates,
        "rPrecisionSamples": size,
        "matchingCompleteBatches": float(matching),
        "matchingAll": matching_all,
        "fid16": frechet(text, motion),
        "real64": {"shape": list(real64.shape), "f32": b64(real64)},
        "gen64": {"shape": list(gen64.shape), "f32": b64(gen64)},
        "fid64": frechet(real64, gen64),
        "fid64Self": frechet(real64, real64),
        "covReal64Eigenvalues": np.linalg.eigvalsh(cov_real64).tolist(),
        "fewReal64": {"shape": list(few_real.shape), "f32": b64(few_real)},
        "fewGen64": {"shape": list(few_gen.shape), "f32": b64(few_gen)},
        "fid64Singular": frechet(few_real, few_gen),
        "diversityFirst": first.tolist(),
        "diversitySecond": second.tolist(),
        "diversity": div,
        "mm": {"shape": [texts, repeats, d], "f32": b64(mm)},
        "mmFirst": mm_first.tolist(),
        "mmSecond": mm_second.tolist(),
        "multimodality": mm_value,
        "replications": reps.tolist(),
        "summaryMean": float(np.mean(reps)),
        "summaryStd": float(np.std(reps)),
        "summaryInterval": float(1.96 * np.std(reps) / np.sqrt(len(reps))),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    os.replace(tmp, OUT)
    print(f"wrote {OUT}: R-precision {rates}, FID64 {fixture['fid64']:.6f}, "
          f"singular {fixture['fid64Singular']:.6f}")


if __name__ == "__main__":
    main()
