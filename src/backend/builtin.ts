// The backends that ship with layerhive; each registers itself on import. The public entry and the stage
// worker import this file for that side effect, so that nothing needs to import the public entry back.
import './js/index.js';
import './wasm/index.js';
import './webgpu/index.js';
