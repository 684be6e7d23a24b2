// Update and Cancel name the alerts they act on as "sender,identifier,sent". An earlier alert
// is the one with the same sender and identifier, sent at the same instant: the time is
// compared as an instant so that "+00:00" and "-00:00" (both UTC in CAP 1.2) agree.
import type { CapReference } from './syntax.js';
import { readDateTime } from './syntax.js';

/** A stable key for a CAP message: sender, identifier and the UTC instant it was sent. */
export function capMessageKey(m: CapReference): string {
  const t = readDateTime(m.sent);
  return `${m.sender},${m.identifier},${t.ok ? new Date(t.value).toISOString() : m.sent}`;
}

/** True when the reference names this message. */
export function referenceNames(ref: CapReference, message: CapReference): boolean {
  return capMessageKey(ref) === capMessageKey(message);
}
