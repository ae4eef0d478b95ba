#!/usr/bin/env node
// The federated tests' and demo's set-up: Flower (flwr==1.42.0, from PyPI) in a virtual environment inside the
// repository (.venv-flower/, gitignored), never the system Python. Idempotent: when the venv already holds that
// version it returns at once. Needs python3 (with venv) and PyPI; stops with one line that says what is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FLWR_VERSION = '1.42.0';
const root = fileURLToPath(new URL('..', import.meta.url));
export const venv = join(root, '.venv-flower');
const bin = (name) => join(venv, process.platform === 'win32' ? 'Scripts' : 'bin', name);

const installed = () => {
  if (!existsSync(bin('python'))) return null;
  try {
    const out = execFileSync(bin('python'), ['-c', 'import flwr, numpy; print(flwr.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim();
  } catch {
    return null;
  }
};

export function ensureFlower() {
  if (installed() === FLWR_VERSION && existsSync(bin('flower-superlink'))) return venv;
  const python = ['python3', 'python'].find((p) => {
    try {
      execFileSync(p, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!python) {
    console.error('the federated tests need python3 with venv (Debian/Ubuntu: sudo apt-get install python3-venv)');
    process.exit(1);
  }
  console.log(`federated: installing flwr==${FLWR_VERSION} into .venv-flower (pip, once)…`);
  if (!existsSync(bin('python'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  // flwr 1.42 serves the Fleet API over HTTP itself (FastAPI, uvicorn): its former `rest` extra is gone
  execFileSync(
    bin('python'),
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `flwr==${FLWR_VERSION}`],
    {
      stdio: 'inherit',
    },
  );
  if (installed() !== FLWR_VERSION) {
    console.error(`federated: pip ran, but .venv-flower does not import flwr ${FLWR_VERSION}`);
    process.exit(1);
  }
  return venv;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureFlower();
