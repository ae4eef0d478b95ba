// What V8 made of each study kernel: the optimised (TurboFan) x64 code of its k loop, read from
// `--print-wasm-code` in a child process, so the table can say from the code, not from a register count, whether a
// shape spills. Counted over the loop with the most FMAs (the main loop of an unrolled kernel): FMAs, SIMD loads,
// stack accesses by SIMD instructions (spills and reloads), SIMD register-to-register moves, all instructions, and
// whether a jump in the loop crosses or ends on a 32-byte boundary (the JCC erratum: on Skylake-family cores such a
// jump, or a cmp/test/add/sub/and/inc/dec fused with it, keeps its 32-byte chunk out of the decoded-µop cache).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./print-code.mjs', import.meta.url));

/** Export name → function index, from the binary's export section (the binaries read here import no functions). */
export function exportIndices(binary) {
  const bytes = binary instanceof Uint8Array ? binary : new Uint8Array(binary);
  let p = 8; // magic + version
  const leb = () => {
    let result = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[p++];
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return result >>> 0;
  };
  const out = new Map();
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = new TextDecoder().decode(bytes.subarray(p, p + len));
        p += len;
        const kind = bytes[p++];
        const index = leb();
        if (kind === 0) out.set(name, index);
      }
    }
    p = end;
  }
  return out;
}

/** { index → [{ addr, off, len, text }] } of every TurboFan function in a --print-wasm-code listing. */
export function parseListing(listing) {
  const functions = new Map();
  for (const block of listing.split('--- WebAssembly code ---').slice(1)) {
    const index = /^index: (\d+)$/m.exec(block);
    if (!index || !/^compiler: TurboFan$/m.test(block)) continue;
    const instrs = [];
    for (const line of block.split('\n')) {
      const m = /^0x([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(.+)$/.exec(line);
      if (!m || m[4].startsWith('nop')) continue;
      const addr = Number.parseInt(m[1], 16);
      instrs.push({ addr, off: Number.parseInt(m[2], 16), len: m[3].length / 2, text: m[4].trim() });
    }
    functions.set(Number(index[1]), instrs);
  }
  return functions;
}

const FMA = /^vfn?m(add|sub)\d{3}ps\b/;
const XMM = /\bxmm\d+\b/;
const MEM = /\[([^\]]+)\]/;
const REG_MOVE = /^v?mov(ups|aps|apd|upd|dqa|dqu)\s+xmm\d+,xmm\d+$/;
const JUMP = /^j\w+\s+0x[0-9a-f]+\s+<\+0x([0-9a-f]+)>/;
/** Instructions that macro-fuse with a following conditional jump on Skylake-family cores. */
const FUSES = /^(REX\.W )?(cmp|test|add|sub|and|inc|dec)\w*\s/;

/** True when the jump at instrs[i] (with the instruction fused to it, if any) crosses or ends on 32 bytes. */
export function hitsJcc32(instrs, i) {
  const j = instrs[i];
  const prev = instrs[i - 1];
  const fused = !j.text.startsWith('jmp') && prev && FUSES.test(prev.text) && prev.addr + prev.len === j.addr;
  const start = fused ? prev.addr : j.addr;
  const end = j.addr + j.len;
  return Math.floor(start / 32) !== Math.floor((end - 1) / 32) || end % 32 === 0;
}

/** Counts over the loop (a backward jump's span) with the most FMAs; null when there is no loop. */
export function loopStats(instrs) {
  let best = null;
  instrs.forEach((ins, i) => {
    const jump = JUMP.exec(ins.text);
    if (!jump) return;
    const target = Number.parseInt(jump[1], 16);
    if (target >= ins.off) return;
    const first = instrs.findIndex((x) => x.off >= target);
    const stats = countLoop(instrs, first, i);
    if (!best || stats.fma > best.fma) best = stats;
  });
  return best;
}

function countLoop(instrs, first, last) {
  const s = { instructions: last - first + 1, fma: 0, loads: 0, stack: 0, moves: 0, jcc32: false };
  for (let i = first; i <= last; i++) {
    const { text } = instrs[i];
    if (FMA.test(text)) s.fma++;
    if (REG_MOVE.test(text)) s.moves++;
    if (text.startsWith('j') && hitsJcc32(instrs, i)) s.jcc32 = true;
    const mem = MEM.exec(text);
    if (!mem || !XMM.test(text)) continue;
    if (/\br[bs]p\b/.test(mem[1])) s.stack++;
    else if (!/^\S+\s+\[/.test(text)) s.loads++; // the memory operand is not the destination: a load
  }
  return s;
}

/** The TurboFan listing of a binary (see print-code.mjs for the modes), or { error }. */
function listing(binary, mode) {
  const r = spawnSync(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', '--no-liftoff', '--print-wasm-code', child, mode],
    { input: Buffer.from(binary), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (r.status !== 0) return { error: `code listing failed: ${(r.stderr || r.error?.message || '').slice(0, 200)}` };
  const functions = parseListing(r.stdout);
  if (functions.size === 0) return { error: 'this node prints no wasm code (--print-wasm-code)' };
  return { functions };
}

/**
 * Loop statistics per export of the study binary, from the code V8 generates with --no-liftoff (the same TurboFan
 * pipeline tiered-up code goes through; V8 places functions and loop headers at 64-byte boundaries, so the byte
 * layout of a loop does not depend on where it lands). Returns { stats: Map(name → stats | null) } or { error }.
 */
export function analyseStudy(binary) {
  const { functions, error } = listing(binary, 'all');
  if (error) return { error };
  const stats = new Map();
  for (const [name, index] of exportIndices(binary)) {
    const instrs = functions.get(index);
    stats.set(name, instrs ? loopStats(instrs) : null);
  }
  return { stats };
}

/** The product gemm's micro-kernel loop (the loop with the most FMAs in any function gemm compiles), or { error }. */
export function analyseProduct(binary) {
  const { functions, error } = listing(binary, 'gemm');
  if (error) return { error };
  let best = null;
  for (const instrs of functions.values()) {
    const s = loopStats(instrs);
    if (s && (!best || s.fma > best.fma)) best = s;
  }
  return best ? { stats: best } : { error: 'no FMA loop in the product gemm' };
}
