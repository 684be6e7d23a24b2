import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { UdpRelay, decide, seededRandom, type Impairment } from '../../bench/udp-relay.js';

interface Received {
  index: number;
  sentAt: number;
  delayMs: number;
}

async function udpSocket(t: Test): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((r) => s.close(() => r())));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** One copy the relay started holding: for how long, and until when on its clock. */
interface Hold {
  delayMs: number;
  dueMs: number;
}

/**
 * Sends `count` datagrams (index + send time) through a relay with the given
 * impairment and collects what reaches the receiver, in arrival order, and
 * every hold the relay started, in the order it started them.
 */
async function runThrough(t: Test, imp: Impairment, seed: number, count: number, expectedCopies: number) {
  const receiver = await udpSocket(t);
  const sender = await udpSocket(t);
  const holds: Hold[] = [];
  const relay = await UdpRelay.open({
    target: { address: '127.0.0.1', port: receiver.address().port },
    seed,
    ...imp,
    onHold: (hold) => void holds.push(hold),
  });
  t.teardown(() => relay.close());
  const got: Received[] = [];
  const done = new Promise<void>((resolve) => {
    receiver.on('message', (msg) => {
      got.push({ index: msg.readUInt32BE(0), sentAt: msg.readDoubleBE(4), delayMs: performance.now() - msg.readDoubleBE(4) });
      if (got.length === expectedCopies) resolve();
    });
  });
  for (let i = 0; i < count; i++) {
    const msg = Buffer.alloc(12);
    msg.writeUInt32BE(i, 0);
    msg.writeDoubleBE(performance.now(), 4);
    sender.send(msg, relay.port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2)); // keep socket buffers small
  }
  // Resolves as soon as every copy is in; the bound is only for a relay that loses some.
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (bound = setTimeout(r, 30_000)))]);
  clearTimeout(bound);
  await new Promise((r) => setTimeout(r, 100)); // anything extra would show up now
  return { got, holds, counters: relay.counters() };
}

/** What the seeded relay will do to each datagram. */
function predict(imp: Impairment, seed: number, count: number) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => decide(random, imp));
}

t.test('seeded loss and duplication: exactly the predicted datagrams, in order', async (t) => {
  const imp: Impairment = { delayMs: 30, jitterMs: 0, lossPercent: 10, duplicatePercent: 10 };
  const plan = predict(imp, 42, 300);
  const expected: number[] = [];
  plan.forEach((d, i) => d?.forEach(() => expected.push(i)));
  const dropped = plan.filter((d) => !d).length;
  const duplicated = plan.filter((d) => d && d.length === 2).length;
  t.ok(dropped > 15 && dropped < 50, `plan drops ${dropped}`);
  t.ok(duplicated > 15 && duplicated < 50, `plan duplicates ${duplicated}`);

  const { got, counters } = await runThrough(t, imp, 42, 300, expected.length);
  // No jitter: one fixed delay keeps the order, each duplicate right after its original.
  t.same(got.map((r) => r.index), expected);
  t.same(counters, { received: 300, dropped, forwarded: expected.length, duplicated, returned: 0 });
  const minDelay = Math.min(...got.map((r) => r.delayMs));
  t.ok(minDelay >= 30 - 2, `nothing faster than the base delay (min ${minDelay.toFixed(1)} ms)`);
});

t.test('jitter reorders by the seeded delays; the bench setting (5% loss, 30 ms jitter)', async (t) => {
  const imp: Impairment = { delayMs: 50, jitterMs: 30, lossPercent: 5, duplicatePercent: 0 };
  const plan = predict(imp, 7, 200);
  const kept = plan.flatMap((d, i) => (d ? [i] : []));
  const { got, holds, counters } = await runThrough(t, imp, 7, 200, kept.length);
  t.same(got.map((r) => r.index).sort((a, b) => a - b), kept, 'exactly the datagrams the seed keeps');
  t.equal(counters.dropped, 200 - kept.length);
  t.equal(counters.forwarded, kept.length);
  // The relay receives them in send order (one loopback socket pair): its k-th hold is kept[k]'s.
  t.same(holds.map((h) => h.delayMs), kept.map((i) => plan[i]![0]), 'each datagram held for its own seeded delay');
  // Each datagram waited at least its own drawn delay.
  for (const r of got) {
    const planned = plan[r.index]![0];
    if (r.delayMs < planned - 2) t.fail(`datagram ${r.index}: ${r.delayMs.toFixed(1)} ms < planned ${planned.toFixed(1)} ms`);
  }
  // Sent within a few ms of each other with delays 20-80 ms apart: arrival order is not send order.
  const inversions = got.filter((r, i) => i > 0 && r.index < got[i - 1].index).length;
  t.ok(inversions > 10, `${inversions} reorderings`);
  // They arrive in the order they were due, exactly. "Due" is counted from when the relay
  // received the datagram, not from when the sender sent it: on a loaded machine the relay may
  // read a datagram tens of ms after it was sent, and that wait is the scheduler's, not the
  // relay's. (Also when the relay's event loop wakes late, what is due leaves in due order.)
  const dueOf = new Map(kept.map((index, k) => [index, holds[k].dueMs]));
  const byDue = [...kept].sort((a, b) => dueOf.get(a)! - dueOf.get(b)!);
  t.same(got.map((r) => r.index), byDue, 'arrival order is due order');
});

t.test('replies from the target go back to the sender', async (t) => {
  const echo = await udpSocket(t);
  echo.on('message', (msg, rinfo) => echo.send(Buffer.concat([Buffer.from('re:'), msg]), rinfo.port, rinfo.address));
  const relay = await UdpRelay.open({ target: { address: '127.0.0.1', port: echo.address().port }, delayMs: 5, seed: 1 });
  t.teardown(() => relay.close());
  const client = await udpSocket(t);
  const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
  client.send('hello', relay.port, '127.0.0.1');
  t.equal(await reply, 're:hello');
  t.match(relay.counters(), { received: 1, forwarded: 1, returned: 1 });
  relay.setImpairment({ lossPercent: 100 });
  client.send('lost', relay.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  t.match(relay.counters(), { received: 2, dropped: 1, forwarded: 1 });
});

t.test('the generator is deterministic and uniform enough', (t) => {
  const a = seededRandom(123);
  const b = seededRandom(123);
  const xs = Array.from({ length: 10000 }, () => a());
  t.same(Array.from({ length: 10000 }, () => b()), xs);
  t.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  t.notSame(Array.from({ length: 5 }, seededRandom(124)), xs.slice(0, 5));
  t.end();
});
