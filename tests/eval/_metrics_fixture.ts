/** Loads tests/golden/metrics/metrics.json (written by tools/make_metric_fixtures.py). */
import type { Embeddings } from "../../eval/embeddings.ts";
import type { RepeatedEmbeddings } from "../../eval/multimodality.ts";

interface StoredArray {
  shape: number[];
  f32: string;
}

/** The fixture: stored arrays decoded, reference numbers as written by numpy/scipy. */
export interface MetricsFixture {
  text: Embeddings;
  motion: Embeddings;
  distRows: number;
  distCols: number;
  dist: number[];
  rPrecision: number[];
  rPrecisionSamples: number;
  matchingCompleteBatches: number;
  matchingAll: number;
  fid16: number;
  real64: Embeddings;
  gen64: Embeddings;
  fid64: number;
  fid64Self: number;
  covReal64Eigenvalues: number[];
  fewReal64: Embeddings;
  fewGen64: Embeddings;
  fid64Singular: number;
  diversityFirst: number[];
  diversitySecond: number[];
  diversity: number;
  mm: RepeatedEmbeddings;
  mmFirst: number[];
  mmSecond: number[];
  multimodality: number;
  replications: number[];
  summaryMean: number;
  summaryStd: number;
  summaryInterval: number;
}

function decode(a: StoredArray): Float32Array {
  const bytes = Uint8Array.from(atob(a.f32), (c) => c.charCodeAt(0));
  // The fixture is little-endian float32, the byte order of every platform Deno runs on.
  return new Float32Array(bytes.buffer);
}

function matrix(a: StoredArray): Embeddings {
  return { data: decode(a), rows: a.shape[0], dim: a.shape[1] };
}

/** Reads and decodes the fixture. */
export async function loadMetricsFixture(): Promise<MetricsFixture> {
  const url = new URL("../golden/metrics/metrics.json", import.meta.url);
  const raw = JSON.parse(await Deno.readTextFile(url));
  const mm = raw.mm as StoredArray;
  return {
    ...raw,
    text: matrix(raw.text),
    motion: matrix(raw.motion),
    real64: matrix(raw.real64),
    gen64: matrix(raw.gen64),
    fewReal64: matrix(raw.fewReal64),
    fewGen64: matrix(raw.fewGen64),
    mm: { data: decode(mm), texts: mm.shape[0], repeats: mm.shape[1], dim: mm.shape[2] },
  };
}

/** A float64 copy of the given rows of `e`, in the given order. */
export function copyRows(e: Embeddings, rows: number[]): Embeddings {
  const data = new Float64Array(rows.length * e.dim); // (rows, dim)
  rows.forEach((r, i) => data.set(e.data.subarray(r * e.dim, (r + 1) * e.dim), i * e.dim));
  return { data, rows: rows.length, dim: e.dim };
}
