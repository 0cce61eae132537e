/**
 * The record every WGSL kernel builder returns, and the generated shader header. A builder
 * (kernels/<family>/wgsl.ts) writes only the body; `kernelSource()` prepends the `Params` uniform
 * struct (bound as `p`) and the storage bindings, inputs first, then outputs, then `p`. Shapes and
 * scalars are uniforms, never baked into the text, so a new shape reuses the cached pipeline.
 */

/** Element type of a storage binding. */
export type ScalarType = "f32" | "u32" | "i32";

/** One storage buffer bound to a kernel: declared `var<storage, read|read_write> name: array<T>`. */
export interface KernelBinding {
  name: string;
  buffer: GPUBuffer;
  /** Default "f32". */
  type?: ScalarType | "vec4<f32>";
}

/** One scalar field of the `Params` uniform struct. */
export interface KernelUniform {
  name: string;
  type: ScalarType;
  value: number;
}

/** Everything needed to dispatch one compute shader. */
export interface Kernel {
  /** Label for error messages. */
  name: string;
  /** WGSL body with one `@compute fn main`; it refers to the bindings and to `p.<uniform>`. */
  code: string;
  /** Read-only storage bindings. */
  inputs: KernelBinding[];
  /** Read-write storage bindings. */
  outputs: KernelBinding[];
  uniforms: KernelUniform[];
  /** Workgroup counts (x, y, z); each at most 65535. */
  grid: [number, number, number];
}

/** Largest workgroup count per grid dimension guaranteed by WebGPU. */
export const MAX_GROUPS = 65535;

/** Bytes reserved per dispatch for the `Params` uniform (the minimum uniform offset alignment). */
export const UNIFORM_SLOT_BYTES = 256;

/** The full WGSL source of `k`: generated header, then the body. */
export function kernelSource(k: Kernel): string {
  const lines: string[] = [];
  if (k.uniforms.length * 4 > UNIFORM_SLOT_BYTES) {
    throw new RangeError(`Cannot build kernel "${k.name}": more than 64 uniform fields`);
  }
  lines.push("struct Params {");
  for (const u of k.uniforms) lines.push(`  ${u.name}: ${u.type},`);
  // An empty struct is not valid WGSL.
  if (k.uniforms.length === 0) lines.push("  unused: u32,");
  lines.push("}");
  let binding = 0;
  for (const b of k.inputs) {
    lines.push(
      `@group(0) @binding(${binding++}) var<storage, read> ${b.name}: array<${b.type ?? "f32"}>;`,
    );
  }
  for (const b of k.outputs) {
    lines.push(
      `@group(0) @binding(${binding++}) var<storage, read_write> ${b.name}: ` +
        `array<${b.type ?? "f32"}>;`,
    );
  }
  lines.push(`@group(0) @binding(${binding}) var<uniform> p: Params;`);
  return lines.join("\n") + "\n" + k.code;
}

/** Shorthands for uniform fields. */
export const u32 = (name: string, value: number): KernelUniform => ({ name, type: "u32", value });
export const f32 = (name: string, value: number): KernelUniform => ({ name, type: "f32", value });

/**
 * Grid for a grid-stride loop over `n` items with workgroups of `wg` threads: as many groups as
 * needed, capped at 65535 (the kernel loops `i += num_workgroups.x * wg`).
 */
export function gridStride(n: number, wg = 256): [number, number, number] {
  return [Math.min(Math.ceil(n / wg), MAX_GROUPS), 1, 1];
}

/** Grid with one workgroup per row, capped at 65535 (the kernel loops over rows). */
export function gridRows(rows: number): [number, number, number] {
  return [Math.min(rows, MAX_GROUPS), 1, 1];
}
