// A CAP 1.2 document, parsed and validated by cap/, becomes an action on the alerts service:
// msgType Alert creates an alert in the zones its areas reach; Update replaces the alert its
// <references> name (on air at once); Cancel stops it. Ack and Error only acknowledge.
//
// What CAP does not say, Loa decides here:
// - the info block spoken is the first in Vietnamese (language vi or vi-VN), else the first;
// - status System and Draft never air (CAP: "not for public"); Exercise and Test air as drills;
// - the cadence: a <parameter> LOA_REPEAT_MINUTES (and LOA_REPEAT_COUNT) when the sender gives
//   one; else an alert with an <expires> repeats every DEFAULT_REPEAT_MINUTES until it expires
//   (Decision 18/2021/QĐ-TTg: disaster bulletins are repeated), and one without airs once;
// - the message: the info's first audio <resource> when there is one (kept under the data dir,
//   see stored-audio.ts), else speech from the headline, description and instruction.
import type { CapAlert, CapInfo, CapReference } from '../../cap/parse.js';
import { capTimeMs } from '../../cap/parse.js';
import type { AlertCadence, AlertStatus } from './tables.js';
import type { AlertInput } from './service.js';

export const DEFAULT_REPEAT_MINUTES = 60;
const DEFAULT_ATTENTION = { shape: 'wail' as const, durationMs: 10_000 };

/** Why a document is acknowledged but nothing airs. */
export type CapNoAir = 'not_public' | 'acknowledgement';

export function capNoAirReason(alert: CapAlert): CapNoAir | null {
  if (alert.status === 'System' || alert.status === 'Draft') return 'not_public';
  if (alert.msgType === 'Ack' || alert.msgType === 'Error') return 'acknowledgement';
  return null;
}

/** The info block Loa speaks: Vietnamese first. */
export function pickInfo(alert: CapAlert): CapInfo | undefined {
  return alert.info.find((i) => /^vi(-|$)/i.test(i.language)) ?? alert.info[0];
}

function parameter(info: CapInfo, name: string): string | undefined {
  return info.parameter.find((p) => p.valueName.toUpperCase() === name)?.value.trim();
}

function positiveInt(v: string | undefined, max: number): number | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= 1 && n <= max ? n : null;
}

export function capCadence(info: CapInfo, expiresAtMs: number | null): AlertCadence {
  const everyMinutes = positiveInt(parameter(info, 'LOA_REPEAT_MINUTES'), 24 * 60);
  const count = positiveInt(parameter(info, 'LOA_REPEAT_COUNT'), 1000);
  if (everyMinutes !== null) return { everyMinutes, count: count ?? (expiresAtMs === null ? 1 : null) };
  if (expiresAtMs !== null) return { everyMinutes: DEFAULT_REPEAT_MINUTES, count };
  return { everyMinutes: null, count: null };
}

/** The alerts service's input for an Alert or Update; `message` is the resolved audio message. */
export function capToInput(alert: CapAlert, info: CapInfo, zoneIds: string[], message: AlertInput['audio']['message']): AlertInput {
  const expiresAtMs = info.expires ? capTimeMs(info.expires) : null;
  return {
    zoneIds,
    status: alert.status as AlertStatus,
    msgType: alert.msgType === 'Update' ? 'Update' : 'Alert',
    event: info.event,
    category: info.category[0] ?? 'Other',
    severity: info.severity,
    urgency: info.urgency,
    certainty: info.certainty,
    headline: info.headline ?? info.event,
    description: info.description,
    instruction: info.instruction,
    language: info.language,
    audio: { attention: DEFAULT_ATTENTION, message },
    cadence: capCadence(info, expiresAtMs),
    issuedAtMs: capTimeMs(alert.sent),
    expiresAtMs,
    cap: { identifier: alert.identifier, sender: alert.sender, sentMs: capTimeMs(alert.sent) },
  };
}

/** The references an Update or Cancel acts on, newest first (the last one written is the latest version). */
export function referencedAlerts(alert: CapAlert): CapReference[] {
  return [...alert.references].reverse();
}
