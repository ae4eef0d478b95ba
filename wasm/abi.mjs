// What the TypeScript glue and the AssemblyScript kernels must agree on, read from the AssemblyScript sources:
// - every function wasm/kernels/index.ts exports (re-exported from ./file or defined there), with its parameters
//   and result, from the `export function` declaration in its file;
// - every `export const enum` of wasm/kernels/codes.ts (the op codes kernels take as arguments).
// build.mjs turns these into TypeScript (`KernelExports`, `kernelExportNames`, one object per enum) and checks the
// export list against each compiled binary. Anything this reader cannot map is an error naming it, never a guess.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** AssemblyScript value types as the JS side sees them through the wasm boundary. */
const jsType = {
  i8: 'number',
  u8: 'number',
  i16: 'number',
  u16: 'number',
  i32: 'number',
  u32: 'number',
  isize: 'number',
  usize: 'number',
  f32: 'number',
  f64: 'number',
  bool: 'number',
  i64: 'bigint',
  u64: 'bigint',
};

/** The source without comments (string literals in these files hold no comment markers). */
const stripComments = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');

/** The text between the parenthesis at `open` and its match. */
function parenthesised(src, open, where) {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) return { inner: src.slice(open + 1, i), end: i + 1 };
  }
  throw new Error(`${where}: unbalanced parentheses`);
}

function mapType(type, where) {
  const t = jsType[type];
  if (!t) throw new Error(`${where}: AssemblyScript type '${type}' has no mapping to TypeScript (see wasm/abi.mjs)`);
  return t;
}

/** `export function name(params): result` in `src` (comments stripped), as TypeScript parameter list and result. */
function signature(src, name, file) {
  const at = new RegExp(`\\bexport\\s+function\\s+${name}\\s*\\(`).exec(src);
  if (!at) throw new Error(`wasm/kernels/index.ts exports '${name}' but ${file} has no 'export function ${name}('`);
  const where = `${file}: ${name}`;
  const { inner, end } = parenthesised(src, at.index + at[0].length - 1, where);
  const result = /^\s*:\s*(\w+)/.exec(src.slice(end));
  if (!result) throw new Error(`${where}: no result type`);
  const params = inner
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const m = /^(\w+)\s*:\s*(\w+)$/.exec(p);
      if (!m) throw new Error(`${where}: cannot read parameter '${p}' (want 'name: type', no defaults)`);
      return { name: m[1], type: mapType(m[2], `${where}(${m[1]})`) };
    });
  return { name, params, result: result[1] === 'void' ? 'void' : mapType(result[1], `${where} result`) };
}

export async function readAbi(kernelsDir) {
  const read = async (file) => stripComments(await readFile(join(kernelsDir, file), 'utf8'));
  const index = await read('index.ts');
  const functions = [];
  const seen = new Set();
  const add = (sig) => {
    if (seen.has(sig.name)) throw new Error(`wasm/kernels/index.ts exports '${sig.name}' twice`);
    seen.add(sig.name);
    functions.push(sig);
  };
  for (const m of index.matchAll(/export\s*\{([^}]*)\}\s*from\s*["']\.\/([\w-]+)["']/g)) {
    const file = `${m[2]}.ts`;
    const src = await read(file);
    for (const entry of m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!/^\w+$/.test(entry)) throw new Error(`wasm/kernels/index.ts: cannot read export '${entry}' (no renames)`);
      add(signature(src, entry, `wasm/kernels/${file}`));
    }
  }
  for (const m of index.matchAll(/\bexport\s+function\s+(\w+)/g)) add(signature(index, m[1], 'wasm/kernels/index.ts'));

  const codes = await read('codes.ts');
  const enums = [];
  for (const m of codes.matchAll(/export\s+const\s+enum\s+(\w+)\s*\{([^}]*)\}/g)) {
    const members = m[2]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const e = /^(\w+)\s*=\s*(\d+)$/.exec(s);
        if (!e) throw new Error(`wasm/kernels/codes.ts: enum ${m[1]}: write '${s}' as 'name = <integer>'`);
        return [e[1], Number(e[2])];
      });
    enums.push({ name: m[1], members });
  }
  return { functions, enums };
}

/**
 * The export section of a binary, read from its bytes: the relaxed-SIMD build does not compile in engines without
 * relaxed SIMD (Node 20 without a flag), so WebAssembly.Module.exports cannot be used on it.
 */
export function binaryExports(bytes) {
  const kinds = ['function', 'table', 'memory', 'global', 'tag'];
  let at = 8; // magic and version
  const leb = () => {
    let v = 0,
      shift = 0,
      b;
    do {
      b = bytes[at++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  while (at < bytes.length) {
    const id = bytes[at++],
      size = leb(),
      end = at + size;
    if (id === 7) {
      const out = [];
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = new TextDecoder().decode(bytes.subarray(at, at + len));
        at += len;
        const kind = kinds[bytes[at++]] ?? 'unknown';
        leb(); // index
        out.push({ name, kind });
      }
      return out;
    }
    at = end;
  }
  return [];
}

/** Fails naming every export the sources declare but a binary lacks, and every one a binary has beyond them. */
export function checkExports(abi, exported, file) {
  const inBinary = new Set(exported.filter((e) => e.kind === 'function').map((e) => e.name));
  const declared = new Set(abi.functions.map((f) => f.name));
  const missing = [...declared].filter((n) => !inBinary.has(n));
  const extra = [...inBinary].filter((n) => !declared.has(n));
  if (missing.length || extra.length) {
    throw new Error(
      `${file}: its exports do not match wasm/kernels/index.ts` +
        (missing.length ? `; missing from the binary: ${missing.join(', ')}` : '') +
        (extra.length ? `; in the binary but not read from the sources: ${extra.join(', ')}` : ''),
    );
  }
}

/** enum BinaryCode → binaryCodes. */
const objectName = (enumName) => `${enumName[0].toLowerCase()}${enumName.slice(1)}s`;

/** The TypeScript the glue imports (appended to binaries.generated.ts). */
export function abiTypeScript(abi) {
  const methods = abi.functions.map(
    (f) => `  ${f.name}(${f.params.map((p) => `${p.name}: ${p.type}`).join(', ')}): ${f.result};`,
  );
  const enums = abi.enums.map(
    (e) =>
      `/** Op codes of enum ${e.name} (wasm/kernels/codes.ts). */\n` +
      `export const ${objectName(e.name)} = { ${e.members.map(([k, v]) => `${k}: ${v}`).join(', ')} } as const;\n`,
  );
  return (
    '/** The ABI of the kernels (wasm/kernels/index.ts): pointers are byte offsets into the linear memory. */\n' +
    `export interface KernelExports {\n${methods.join('\n')}\n}\n` +
    '/** Every function the kernels export, in the order of wasm/kernels/index.ts. */\n' +
    `export const kernelExportNames = [${abi.functions.map((f) => `'${f.name}'`).join(', ')}] as const;\n` +
    enums.join('')
  );
}
