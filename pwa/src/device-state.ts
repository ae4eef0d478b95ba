import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** What the browser's `beforeinstallprompt` event carries (not in TypeScript's DOM types). */
interface InstallPrompt extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

/**
 * Whether the device is online (the app works either way: an offline badge says so) and whether the browser offers
 * to install the app (then an Install button shows; it goes once installed or refused).
 */
export class DeviceState implements ReactiveController {
  online = navigator.onLine;
  private offer: InstallPrompt | null = null;

  constructor(private host: ReactiveControllerHost) {
    host.addController(this);
  }

  get installable(): boolean {
    return this.offer !== null;
  }

  hostConnected(): void {
    addEventListener('online', this.changed);
    addEventListener('offline', this.changed);
    addEventListener('beforeinstallprompt', this.offered);
    addEventListener('appinstalled', this.installed);
  }

  hostDisconnected(): void {
    removeEventListener('online', this.changed);
    removeEventListener('offline', this.changed);
    removeEventListener('beforeinstallprompt', this.offered);
    removeEventListener('appinstalled', this.installed);
  }

  /** Shows the browser's own install dialog; the button goes whatever the answer (the browser offers again later). */
  async install(): Promise<void> {
    const offer = this.offer;
    if (!offer) return;
    this.offer = null;
    this.host.requestUpdate();
    await offer.prompt();
    await offer.userChoice;
  }

  private changed = () => {
    this.online = navigator.onLine;
    this.host.requestUpdate();
  };

  private offered = (e: Event) => {
    e.preventDefault(); // no mini-infobar: the app's own button offers it
    this.offer = e as InstallPrompt;
    this.host.requestUpdate();
  };

  private installed = () => {
    this.offer = null;
    this.host.requestUpdate();
  };
}
