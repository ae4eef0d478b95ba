import { Workbox } from 'workbox-window';
import './app-shell.js';

// the service worker precaches the app, its workers and the base model, so the app works offline after one load
if ('serviceWorker' in navigator)
  void new Workbox(new URL('./sw.js', import.meta.url).href, { type: 'classic' }).register();
