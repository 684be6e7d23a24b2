/**
 * /readyz tells the truth about the media plane: "ok" while the engine's
 * worker runs, 503 with a sentence an operator can act on once it has died —
 * never a dashboard that says "running" while no loudspeaker can be reached.
 */
import t from 'tap';
import { startBroadcastServer, until } from './harness.js';

t.test('readiness follows the media engine', async (t) => {
  const server = await startBroadcastServer(t);
  const ok = await server.api('GET', '/readyz');
  t.equal(ok.status, 200);
  t.match(ok.body, { status: 'ok', engine: 'running' });

  // The worker dies behind the host's back (not through host.close()).
  await server.host.engine.close();
  await until(() => !server.host.engineAlive, 'the host to notice the engine is gone');
  const down = await server.api('GET', '/readyz');
  t.equal(down.status, 503);
  t.equal(down.body.error, 'engine_down');
  t.match(down.body.message, /media engine has stopped.*restarting it by itself/, 'a sentence an operator can act on (the harness asks for English)');
  const vi = await fetch(`${server.url}/readyz`, { headers: { 'accept-language': 'vi' } });
  t.match(((await vi.json()) as { message: string }).message, /Bộ phát âm thanh đã dừng/, 'and in Vietnamese');
  const healthz = await server.api('GET', '/healthz');
  t.equal(healthz.status, 200, 'liveness is about the process, which still answers');
});
