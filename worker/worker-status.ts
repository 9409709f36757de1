// Where the invisible worker leaves its connection status for people: in its persistence (the app's install
// page, opened inside the same portal, reads it and explains what to do), on its document, and in the console.
import { persistence } from './persistence.ts';
import type { ClientStatus } from './relay-client.ts';

export const STATUS_KEY = 'oc_status';

export interface PublishedStatus extends ClientStatus {
  appSid: string;
  at: number;
  storage: string;
}

export function publishStatus(appSid: string, status: ClientStatus): void {
  const store = persistence();
  const published: PublishedStatus = { ...status, appSid, at: Date.now(), storage: store.kind };
  store.set(STATUS_KEY, JSON.stringify(published));
  document.documentElement.dataset.state = status.state;
}

export function readStatus(): PublishedStatus | null {
  try {
    const text = persistence().get(STATUS_KEY);
    return text ? (JSON.parse(text) as PublishedStatus) : null;
  } catch {
    return null;
  }
}
