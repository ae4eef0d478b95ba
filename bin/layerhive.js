#!/usr/bin/env node
// Node 20 validates relaxed SIMD only behind a V8 flag; set it before any module is compiled so the
// CLI gets the fused multiply-add kernels. LAYERHIVE_NO_RELAXED_SIMD=1 keeps plain SIMD.
import v8 from 'node:v8';
if (!process.env.LAYERHIVE_NO_RELAXED_SIMD) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
await import('../dist/cli.js');
