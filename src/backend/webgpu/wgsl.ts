import type { DType } from '../../core/dtype.js';
import { Params, type WebGpuBackend } from './webgpu-backend.js';

/** The WGSL element type a dtype is stored as (every dtype takes 4 bytes on the GPU). */
export const wgslType = (d: DType): string => (d === 'float32' ? 'f32' : d === 'int32' ? 'i32' : 'u32');

/**
 * Binding declarations: inputs read-only from binding 0, outputs read-write after them, then the uniform
 * parameters (a struct body such as `lr: f32, step: u32`, from `Params.struct()`) if any, read as `p.<field>`.
 * Must match WebGpuBackend.run's order.
 */
export function bindings(inputs: [string, DType][], outputs: [string, DType][], params?: string): string {
  const lines = inputs.map(([n, d], i) => `@group(0) @binding(${i}) var<storage, read> ${n}: array<${wgslType(d)}>;`);
  outputs.forEach(([n, d], i) => {
    lines.push(`@group(0) @binding(${inputs.length + i}) var<storage, read_write> ${n}: array<${wgslType(d)}>;`);
  });
  if (params)
    lines.push(
      `struct Params { ${params} }`,
      `@group(0) @binding(${inputs.length + outputs.length}) var<uniform> p: Params;`,
    );
  return `${lines.join('\n')}\n${specials}`;
}

/** −∞ and NaN at run time (WGSL rejects them as constants). */
const specials = `
fn ninf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
fn qnan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }`;

/**
 * A 1-D kernel over `p.n` items, 256 threads a workgroup, on a 2-D grid of row stride `p.stride` (see grid()). Both
 * are uniforms (from `linearLaunch`), so the code does not depend on the size.
 */
export function linear(body: string): string {
  return `@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * p.stride;
  if (i >= p.n) { return; }
  ${body}
}`;
}

/** The workgroups of a `linear` kernel over `n` items, and its first uniforms `n` and `stride` (add the kernel's). */
export function linearLaunch(b: WebGpuBackend, n: number): { params: Params; groups: [number, number] } {
  const { groups, stride } = b.grid(n, 256);
  return { params: new Params().u({ n, stride }), groups };
}

/** A float literal WGSL accepts. */
export function f(x: number): string {
  if (Number.isNaN(x)) return 'qnan()';
  if (!Number.isFinite(x)) return x > 0 ? '(-ninf())' : 'ninf()';
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

/** erf (Numerical Recipes erfc fit, as the js reference) and the helpers several kernels share. */
export const mathLib = `
fn erf_(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp_(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
// exp with Cody–Waite range reduction and a degree-6 polynomial: ~1 ulp, where some adapters' exp is far
// looser (SwiftShader's cost tanh′ = 1 − tanh² 2.5e-4 relative accuracy near saturation)
fn exp_(x: f32) -> f32 {
  if (x > 88.72) { return -ninf(); }
  if (x < -103.97) { return 0.0; }
  let n = round(x * 1.44269504);
  let r = (x - n * 0.693145752) - n * 1.42860677e-6;
  let q = 1.0 + r * (1.0 + r * (0.5 + r * (0.166666672 + r * (0.0416666418 +
    r * (0.00833336823 + r * 0.00138925435)))));
  let k = i32(n);
  // 2^k in two halves so that k down to −149 (subnormals) and up to 128 stay representable
  let h = k / 2;
  return q * bitcast<f32>(u32(h + 127) << 23u) * bitcast<f32>(u32(k - h + 127) << 23u);
}
// as the wasm kernel: an odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above (no cancellation near ±1)
fn tanh_(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.625) {
    let z = x * x;
    let q = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z -
      3.33332819422e-1);
    return q * z * x + x;
  }
  let big = 1.0 - 2.0 / (exp_(ax + ax) + 1.0);
  return select(big, -big, x < 0.0);
}
fn pow_(a: f32, b: f32) -> f32 {
  if (a >= 0.0) { return pow(a, b); }
  if (fract(b) != 0.0) { return qnan(); }
  let r = pow(-a, b);
  return select(r, -r, (i32(b) & 1) != 0);
}`;
