#!/usr/bin/env node
// The KernelSHAP benchmark's reference: shap (shap==0.54.1, from PyPI) and numpy in a virtual environment inside the
// repository (.venv-shap/, gitignored), never the system Python. Run by `bench/kernel-shap.mjs` only: no test and no
// npm script needs it. Idempotent: when the venv already holds that version it returns at once. Needs python3 (with
// venv) and PyPI; stops with one line that says what is missing. shap 0.54 requires Python ≥ 3.12: the venv is made
// from the first of python3.13, python3.12, python3 on PATH, then pyenv's installed versions, that is 3.12 or newer.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHAP_VERSION = '0.54.1';
const root = fileURLToPath(new URL('..', import.meta.url));
export const venv = join(root, '.venv-shap');
export const python = join(venv, process.platform === 'win32' ? 'Scripts' : 'bin', 'python');

const installed = () => {
  if (!existsSync(python)) return null;
  try {
    const out = execFileSync(python, ['-c', 'import shap, numpy; print(shap.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim();
  } catch {
    return null;
  }
};

const works = (exe, code) => {
  try {
    execFileSync(exe, ['-c', code], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Interpreters to make the venv from, newest first where the name says. */
function candidates() {
  const pyenv = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  const versions = existsSync(pyenv)
    ? readdirSync(pyenv)
        .filter((v) => /^3\.\d+\.\d+$/.test(v))
        .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
        .map((v) => join(pyenv, v, 'bin', 'python3'))
    : [];
  return ['python3.13', 'python3.12', 'python3', ...versions];
}

/** The venv's python, with shap installed (once). */
export function ensureShap() {
  if (installed() === SHAP_VERSION) return python;
  const system = candidates().find((p) => works(p, 'import sys, venv, ensurepip; assert sys.version_info >= (3, 12)'));
  if (!system) {
    console.error(`the kernel-shap bench needs python ≥ 3.12 with venv for shap ${SHAP_VERSION} (pyenv install 3.12)`);
    process.exit(1);
  }
  // a venv left by an older python cannot take this shap: make it anew
  if (existsSync(python) && !works(python, 'import sys; assert sys.version_info >= (3, 12)'))
    rmSync(venv, { recursive: true, force: true });
  console.error(`kernel-shap: installing shap==${SHAP_VERSION} into .venv-shap (pip, once)…`);
  if (!existsSync(python)) execFileSync(system, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `shap==${SHAP_VERSION}`, 'numpy'],
    { stdio: ['ignore', 2, 2] },
  );
  if (installed() !== SHAP_VERSION) {
    console.error(`kernel-shap: pip ran, but .venv-shap does not import shap ${SHAP_VERSION}`);
    process.exit(1);
  }
  return python;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureShap();
