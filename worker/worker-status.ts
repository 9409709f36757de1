// Where the invisible worker leaves its connection status for people: localStorage (the app's install page,
// opened inside the same portal, reads it and explains what to do) and the browser console.
import type { ClientStatus } from './relay-client.ts';

export const STATUS_KEY = 'operator-companion.status';

export interface PublishedStatus extends ClientStatus {
  appSid: string;
  at: number;
}

export function publishStatus(appSid: string, status: ClientStatus): void {
  const published: PublishedStatus = { ...status, appSid, at: Date.now() };
  try {
    window.localStorage.setItem(STATUS_KEY, JSON.stringify(published));
  } catch {
    // No storage: the console line is all there is.
  }
  document.documentElement.dataset.state = status.state;
}

export function readStatus(): PublishedStatus | null {
  try {
    const text = window.localStorage.getItem(STATUS_KEY);
    return text ? (JSON.parse(text) as PublishedStatus) : null;
  } catch {
    return null;
  }
}
