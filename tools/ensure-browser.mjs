#!/usr/bin/env node
// `npm test`'s set-up: the browser tests need a Chromium (or Chrome), and the WebGPU tests in Node need the system's
// Vulkan loader (Dawn then runs on Chromium's SwiftShader). Finds both; where one is missing and apt-get can be
// used as root, installs Debian's packages; otherwise stops at once with one line that says what to install.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium } from './find-chromium.mjs';

const hasVulkan = () => {
  if (process.platform !== 'linux') return true; // Dawn uses Metal / D3D12 there
  try {
    return /libvulkan\.so\.1 /.test(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }));
  } catch {
    return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);
  }
};

const missing = [];
if (!findChromium()) missing.push('chromium');
if (!hasVulkan()) missing.push('libvulkan1');
if (missing.length === 0) process.exit(0);

const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find(existsSync);
const root = process.getuid?.() === 0;
if (!aptGet || !root) {
  console.error(
    `npm test needs ${missing.join(' and ')}: install ${missing.length > 1 ? 'them' : 'it'} (Debian/Ubuntu: ` +
      `sudo apt-get install ${missing.join(' ')}), or set CHROME_PATH to a Chromium or Chrome. ` +
      'No browser is downloaded.',
  );
  process.exit(1);
}
console.log(`npm test: installing Debian's ${missing.join(' and ')} (apt-get, once)…`);
const lock = ['-o', 'DPkg::Lock::Timeout=900'];
const apt = (...args) => execFileSync(aptGet, [...lock, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
apt('update');
if (missing.includes('chromium')) apt('install', '-y', 'chromium');
if (missing.includes('libvulkan1')) apt('install', '-y', '--no-install-recommends', 'libvulkan1'); // not Mesa's drivers
if (!findChromium()) {
  console.error('npm test: apt-get installed chromium, but no Chromium is at the usual paths; set CHROME_PATH');
  process.exit(1);
}
