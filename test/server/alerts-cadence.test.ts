// The cadence of alerts on simulated time (an injected clock; the media engine is real): every
// N minutes, N times or until expiry; expiry takes the alert off the air; a restart in the
// middle of a cadence continues it from the airings stored in the database, not from the
// time the process started. And the spoken text restates the time of issue.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBroadcastServer, until } from '../integration/harness.js';
import { AlertService, type AlertInput } from '../../server/alerts/service.js';
import { nextAiringAt } from '../../server/alerts/cadence.js';
import { alertSpokenText, cancelledSpokenText, vietnameseTime } from '../../server/alerts/spoken-text.js';
import { alertDb } from '../../server/alerts/tables.js';

const ledgerDir = mkdtempSync(path.join(os.tmpdir(), 'loa-alert-ledger-'));
t.teardown(() => rmSync(ledgerDir, { recursive: true, force: true }));
const s = await startBroadcastServer(t, { ledgerDir });
const zone = await s.zone(null, 'Xã Hải Lăng');
const db = alertDb(s.database.db);
const MIN = 60_000;
const T0 = Date.parse('2026-11-27T07:30:00Z'); // 14:30 in Asia/Ho_Chi_Minh
const clock = { t: T0, now() { return this.t; } };
const actor = { by: 'usr_test', from: '192.0.2.7' };

function start(): Promise<AlertService> {
  return AlertService.start({ database: s.database, host: s.host, logger: s.host.logger, dataDir: s.config.dataDir, timeZone: 'Asia/Ho_Chi_Minh', clock, tickMs: 0 });
}
const input = (over: Partial<AlertInput> = {}): AlertInput => ({
  zoneIds: [zone.id],
  status: 'Actual',
  event: 'Bão',
  category: 'Met',
  severity: 'Extreme',
  urgency: 'Immediate',
  certainty: 'Observed',
  headline: 'Bão số 9 đổ bộ',
  audio: { attention: { shape: 'hilo', durationMs: 1000 }, message: { kind: 'none' } },
  cadence: { everyMinutes: 5, count: 3 },
  ...over,
});
const airings = async (id: string) => db.selectFrom('alert_airings').selectAll().where('alert_id', '=', id).orderBy('airing').execute();
const startedAt = async (id: string) => (await airings(id)).map((a) => (a.started_at.getTime() - T0) / MIN);

t.test('next airing from the stored airings', async (t) => {
  const c = (everyMinutes: number | null, count: number | null) => ({ everyMinutes, count });
  t.equal(nextAiringAt({ cadence: c(null, null), expiresAtMs: null, airings: 0, lastStartedAtMs: null }), 0, 'never aired: due now');
  t.equal(nextAiringAt({ cadence: c(null, null), expiresAtMs: null, airings: 1, lastStartedAtMs: T0 }), null, 'once');
  t.equal(nextAiringAt({ cadence: c(5, 3), expiresAtMs: null, airings: 2, lastStartedAtMs: T0 }), T0 + 5 * MIN);
  t.equal(nextAiringAt({ cadence: c(5, 3), expiresAtMs: null, airings: 3, lastStartedAtMs: T0 }), null, 'count reached');
  t.equal(nextAiringAt({ cadence: c(5, null), expiresAtMs: T0 + 5 * MIN, airings: 1, lastStartedAtMs: T0 }), null, 'the next one would be at expiry');
});

t.test('the spoken text restates the time of issue, in the zone’s time', async (t) => {
  t.equal(vietnameseTime(new Date(T0), 'Asia/Ho_Chi_Minh'), '14 giờ 30 phút ngày 27 tháng 11 năm 2026');
  const a = { status: 'Actual' as const, headline: 'Bão số 9 đổ bộ', description: 'Gió cấp 12', instruction: 'Không ra khơi', issuedAt: new Date(T0) };
  t.equal(alertSpokenText(a, 'Asia/Ho_Chi_Minh'), 'Bản tin phát lúc 14 giờ 30 phút ngày 27 tháng 11 năm 2026. Bão số 9 đổ bộ. Gió cấp 12. Không ra khơi.');
  t.equal(
    alertSpokenText({ ...a, status: 'Test', description: '', instruction: '' }, 'Asia/Ho_Chi_Minh'),
    'Bản tin phát lúc 14 giờ 30 phút ngày 27 tháng 11 năm 2026. Đây là tin thử nghiệm. Bão số 9 đổ bộ. Đây là tin thử nghiệm.',
  );
  t.match(alertSpokenText({ ...a, status: 'Exercise' }, 'Asia/Ho_Chi_Minh'), /^Bản tin phát lúc [^.]+\. Đây là tin diễn tập\./);
  t.match(cancelledSpokenText(a, 'Asia/Ho_Chi_Minh'), /^Thông báo huỷ bản tin phát lúc 14 giờ 30 phút .*: Bão số 9 đổ bộ\./);
});

t.test('every 5 minutes, 3 times, across a restart', async (t) => {
  clock.t = T0;
  let svc = await start();
  const alert = await svc.create(input({ audio: { attention: { shape: 'hilo', durationMs: 60_000 }, message: { kind: 'none' } } }), actor);
  t.same(await startedAt(alert.id), [0], 'first airing at once');
  const [first] = await airings(alert.id);
  t.equal(s.host.catalog.get(first.programme_id)?.kind, 'alert', 'the airing is a programme');
  t.ok(s.host.ledger!.has(first.programme_id), 'durable: in the programme ledger while on air (survives a crash)');

  clock.t = T0 + 4 * MIN + 59_000;
  await svc.tick();
  t.same(await startedAt(alert.id), [0], 'nothing before 5 minutes');
  clock.t = T0 + 5 * MIN;
  await svc.tick();
  t.same(await startedAt(alert.id), [0, 5], 'second airing at 5 minutes');

  // The server goes down and comes back 2 minutes later.
  await svc.close();
  clock.t = T0 + 7 * MIN;
  svc = await start();
  t.teardown(() => svc.close());
  t.same(await startedAt(alert.id), [0, 5], 'a restart does not air it again');
  clock.t = T0 + 9 * MIN;
  await svc.tick();
  t.same(await startedAt(alert.id), [0, 5], 'nor 5 minutes after the restart’s start… (9 min)');
  clock.t = T0 + 10 * MIN;
  await svc.tick();
  t.same(await startedAt(alert.id), [0, 5, 10], 'third airing 5 minutes after the second, as stored');
  clock.t = T0 + 15 * MIN;
  await svc.tick();
  t.same(await startedAt(alert.id), [0, 5, 10], 'count reached: no fourth');
  const all = await airings(alert.id);
  t.equal((await svc.get(alert.id))?.state, s.host.catalog.get(all[2].programme_id)?.endedAtMs === undefined ? 'active' : 'done', 'active while its last airing is on air');
  s.host.stop(all[2].programme_id); // its 60 s siren, ended early
  await until(() => s.host.catalog.get(all[2].programme_id)?.endedAtMs !== undefined, 'the last airing over');
  await svc.tick();
  t.equal((await svc.get(alert.id))?.state, 'done', 'then done');
  t.equal(new Set(all.map((a) => a.programme_id)).size, 3, 'one programme per airing');
});

t.test('expiry ends the cadence and takes the alert off the air', async (t) => {
  clock.t = T0;
  const svc = await start();
  t.teardown(() => svc.close());
  const alert = await svc.create(
    input({ cadence: { everyMinutes: 2, count: null }, expiresAtMs: T0 + 5 * MIN, audio: { attention: { shape: 'wail', durationMs: 120_000 }, message: { kind: 'none' } } }),
    actor,
  );
  for (const m of [1, 2, 3, 4]) {
    clock.t = T0 + m * MIN;
    await svc.tick();
  }
  t.same(await startedAt(alert.id), [0, 2, 4], 'every 2 minutes');
  const last = (await airings(alert.id)).at(-1)!;
  await until(() => s.host.onAir.get(zone.id)?.programmeId === last.programme_id, 'the last airing on air');
  t.same(svc.programmesOf(alert.id), [last.programme_id], 'a new airing replaced the previous one');
  clock.t = T0 + 5 * MIN;
  await svc.tick();
  t.equal((await svc.get(alert.id))?.state, 'expired');
  await until(() => s.host.catalog.get(last.programme_id)?.endedAtMs !== undefined, 'off the air at expiry');
  clock.t = T0 + 6 * MIN;
  await svc.tick();
  t.same(await startedAt(alert.id), [0, 2, 4], 'nothing after expiry');
  const audit = await db.selectFrom('alert_audit').selectAll().where('alert_id', '=', alert.id).orderBy('id').execute();
  t.match(audit, [{ action: 'create', by: 'usr_test', from_address: '192.0.2.7' }, { action: 'expire', by: 'system' }]);
});
