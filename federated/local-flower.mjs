// Starts Flower's own processes on loopback for the tests and the demo: a SuperLink (`flower-superlink --insecure`,
// whose HTTP port carries the Fleet API) and a run of federated/app (`flwr run`), all from .venv-flower, with a
// private FLWR_HOME so nothing touches ~/.flwr. `stop()` ends every process that carries that FLWR_HOME, by pid;
// `restart()` kills the SuperLink and starts a new one on the same port (the fault tests' SuperLink restart).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFlower } from '../tools/ensure-flower.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const appDir = join(root, 'federated/app');

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Every pid whose environment carries FLWR_HOME=home (Linux /proc; elsewhere only the pids we spawned). */
function pidsWithHome(home) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(`FLWR_HOME=${home}`)) out.push(Number(e));
    } catch {}
  }
  return out;
}

export async function startFlower({ log = () => {} } = {}) {
  const venv = ensureFlower();
  const home = mkdtempSync(join(tmpdir(), 'layerhive-flwr-'));
  const port = await freePort();
  const env = { ...process.env, FLWR_HOME: home, PATH: `${join(venv, 'bin')}:${process.env.PATH}` };
  writeFileSync(
    join(home, 'config.toml'),
    `[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:${port}"\ninsecure = true\n`,
  );
  const spawned = [];
  let output = '';
  let superlink;
  // the ServerApp runs in this venv's Python, which has its dependencies: without the flag, Flower 1.42 makes a fresh
  // environment per run with `uv sync` from PyPI (network, and certificates a bare environment may lack)
  const startSuperlink = async () => {
    superlink = spawn(
      join(venv, 'bin/flower-superlink'),
      ['--insecure', '--host', '127.0.0.1', '--port', String(port), '--disable-runtime-dependency-installation'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    spawned.push(superlink);
    const from = output.length;
    const collect = (d) => {
      output += d;
      log(String(d));
    };
    superlink.stdout.on('data', collect);
    superlink.stderr.on('data', collect);
    const t0 = Date.now();
    while (!/Uvicorn running on/.test(output.slice(from))) {
      if (superlink.exitCode !== null || Date.now() - t0 > 60_000)
        throw new Error(`flower-superlink did not start:\n${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await startSuperlink();
  const server = `http://127.0.0.1:${port}`;
  return {
    server,
    home,
    superlinkLog: () => output,
    /** `flwr run federated/app` with run-config overrides; resolves with its output once submitted. */
    run(config) {
      const pairs = Object.entries(config).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`);
      return execFileSync(join(venv, 'bin/flwr'), ['run', appDir, 'local', '--run-config', pairs.join(' ')], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
    },
    /** The ServerApp's log of a run so far (`flwr log RUN_ID --show`): the strategy's lines, failures among them. */
    runLog(runId) {
      return execFileSync(join(venv, 'bin/flwr'), ['log', String(runId), 'local', '--show'], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    },
    /**
     * Kills the SuperLink and every process of its runs (as a crash would: nothing is deactivated or saved; its state
     * is in memory, so every node and run is forgotten), waits `downMs`, then starts a new one on the same port and
     * FLWR_HOME, so that `run` and the nodes' address stay valid.
     */
    async restart({ downMs = 0 } = {}) {
      const old = superlink;
      for (const pid of pidsWithHome(home)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      if (old.exitCode === null && old.signalCode === null) {
        old.kill('SIGKILL');
        await new Promise((r) => old.once('exit', r));
      }
      await new Promise((r) => setTimeout(r, downMs));
      await startSuperlink();
    },
    stop() {
      for (const p of spawned) if (p.exitCode === null) p.kill('SIGTERM');
      for (const pid of pidsWithHome(home)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Initial arrays for the ServerApp: manifest.json + <i>.npy, from [name, npy bytes] pairs. */
export function writeArrays(dir, arrays) {
  const names = [];
  arrays.forEach(([name, bytes], i) => {
    names.push(name);
    writeFileSync(join(dir, `${i}.npy`), bytes);
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ names }));
}

/** The arrays the ServerApp wrote (a round's or the final ones) as [name, npy bytes] pairs. */
export function readArrays(dir) {
  const { names } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return names.map((n, i) => [n, new Uint8Array(readFileSync(join(dir, `${i}.npy`)))]);
}
