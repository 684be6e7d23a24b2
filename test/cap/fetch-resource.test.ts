// Fetching a CAP resource's audio from a real local HTTP server: refused on loopback unless the
// host is allow-listed, every redirect and every resolved address re-checked, and size, type,
// time and digest limits enforced. derefUri decoded under the same size and digest rules.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeDerefUri, fetchAudio, findAudioResource, loadResourceAudio, type ResolvedAddress, type ResourceErrorCode } from '../../cap/fetch-resource.js';
import { forbiddenAddressReason } from '../../cap/address-policy.js';

/** 0.2 s of a 440 Hz tone as 16-bit mono WAV at 8 kHz. */
function wav(): Buffer {
  const n = 1600;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2);
  return b;
}
const audio = wav();
const sha1 = createHash('sha1').update(audio).digest('hex');

const requests: string[] = [];
const server = createServer((req, res: ServerResponse) => {
  requests.push(`${req.headers.host} ${req.url}`);
  const port = (server.address() as AddressInfo).port;
  switch (req.url) {
    case '/alert.wav': res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': audio.length }); return res.end(audio);
    case '/page.html': res.writeHead(200, { 'content-type': 'text/html' }); return res.end('<html></html>');
    case '/huge-declared.mp3': res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': 50_000_000 }); return res.end();
    case '/endless.mp3': {
      // No length announced, bytes keep coming: the reader must stop at the limit.
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      const chunk = Buffer.alloc(16 * 1024, 0xff);
      const pump = () => { while (res.write(chunk)) { /* until the socket buffer is full */ } };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      return pump();
    }
    case '/stall.mp3': res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': 1000 }); return res.write(Buffer.alloc(10)); // never ends
    case '/silent': return; // never answers
    case '/to-localhost': res.writeHead(302, { location: `http://localhost:${port}/alert.wav` }); return res.end();
    case '/to-self': res.writeHead(301, { location: '/alert.wav' }); return res.end();
    case '/loop': res.writeHead(302, { location: '/loop' }); return res.end();
    case '/gone': res.writeHead(404); return res.end();
    default: res.writeHead(500); return res.end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => { server.closeAllConnections(); server.close(); });
const port = (server.address() as AddressInfo).port;
const at = (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`;
const allowLocal = { allowHosts: ['127.0.0.1'] };

t.test('an allow-listed host is fetched; without the allow-list loopback is refused', async (t) => {
  const ok = await fetchAudio(at('/alert.wav'), allowLocal);
  t.ok(ok.ok, 'allowed');
  if (ok.ok) {
    t.ok(ok.bytes.equals(audio), 'the exact bytes');
    t.equal(ok.mimeType, 'audio/wav');
  }
  const before = requests.length;
  const refused = await fetchAudio(at('/alert.wav'));
  t.equal(refused.ok, false);
  if (!refused.ok) {
    t.equal(refused.error.code, 'forbidden_address');
    t.equal(refused.error.params.address, '127.0.0.1');
    t.match(refused.error.reason, /loopback/);
  }
  t.equal(requests.length, before, 'the server was never contacted');
  const byName = await fetchAudio(at('/alert.wav', 'localhost'));
  t.equal(!byName.ok && byName.error.code, 'forbidden_address', '“localhost” resolves to loopback and is refused');
  const v6 = await fetchAudio(`http://[::ffff:127.0.0.1]:${port}/alert.wav`);
  t.equal(!v6.ok && v6.error.code, 'forbidden_address', 'the IPv4-mapped IPv6 form is refused');
  const decimal = await fetchAudio(`http://2130706433:${port}/alert.wav`);
  t.equal(!decimal.ok && decimal.error.code, 'forbidden_address', '127.0.0.1 written as one number is refused');
});

t.test('redirects are checked again at every hop', async (t) => {
  const before = requests.length;
  const r = await fetchAudio(at('/to-localhost'), allowLocal);
  t.equal(!r.ok && r.error.code, 'forbidden_address', 'a redirect from an allowed host to a loopback name is refused');
  t.same(requests.slice(before), [`127.0.0.1:${port} /to-localhost`], 'the target was never requested');
  const self = await fetchAudio(at('/to-self'), allowLocal);
  t.ok(self.ok && self.url === at('/alert.wav'), 'a relative redirect on the allowed host is followed');
  const loop = await fetchAudio(at('/loop'), { ...allowLocal, maxRedirects: 3 });
  t.equal(!loop.ok && loop.error.code, 'too_many_redirects');
});

t.test('every resolved address is checked, and the connection goes to a checked address', async (t) => {
  const dns = (table: Record<string, string[]>) => async (host: string): Promise<ResolvedAddress[]> => {
    const list = table[host];
    if (!list) throw new Error('ENOTFOUND');
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const mixed = await fetchAudio(`http://audio.example.vn:${port}/alert.wav`, { resolve: dns({ 'audio.example.vn': ['93.184.215.14', '10.0.0.5'] }) });
  t.equal(!mixed.ok && mixed.error.code, 'forbidden_address', 'one private address among public ones is enough to refuse');
  t.equal(!mixed.ok && mixed.error.params.address, '10.0.0.5');
  for (const address of ['100.64.1.1', '169.254.169.254', 'fd00::1', 'fe80::1', '::', '0.0.0.0', '239.1.1.1']) {
    const r = await fetchAudio(`http://audio.example.vn:${port}/alert.wav`, { resolve: dns({ 'audio.example.vn': [address] }) });
    t.equal(!r.ok && r.error.code, 'forbidden_address', address);
  }
  const unknown = await fetchAudio(`http://nowhere.example.vn:${port}/alert.wav`, { resolve: dns({}) });
  t.equal(!unknown.ok && unknown.error.code, 'dns_failed');
  // The name exists only in our resolver: reaching the server proves the connection used the
  // address checked here, not a second lookup.
  const pinned = await fetchAudio(`http://audio.example.vn:${port}/alert.wav`, { allowHosts: ['AUDIO.example.vn'], resolve: dns({ 'audio.example.vn': ['127.0.0.1'] }) });
  t.ok(pinned.ok && pinned.bytes.equals(audio), 'an allow-listed name, connected to its checked address');
});

t.test('type, size, status, time and scheme limits', async (t) => {
  const html = await fetchAudio(at('/page.html'), allowLocal);
  t.equal(!html.ok && html.error.code, 'not_audio');
  const declared = await fetchAudio(at('/huge-declared.mp3'), allowLocal);
  t.equal(!declared.ok && declared.error.code, 'too_large', 'a Content-Length over the limit');
  const endless = await fetchAudio(at('/endless.mp3'), { ...allowLocal, maxBytes: 256 * 1024 });
  t.equal(!endless.ok && endless.error.code, 'too_large', 'a body that never stops, cut at the limit');
  const gone = await fetchAudio(at('/gone'), allowLocal);
  t.equal(!gone.ok && gone.error.params.status, 404);
  // Time limits: the assertion is the refusal, not how fast it came.
  const stall = await fetchAudio(at('/stall.mp3'), { ...allowLocal, timeoutMs: 300 });
  t.equal(!stall.ok && stall.error.code, 'timeout', 'a body that stalls');
  const silent = await fetchAudio(at('/silent'), { ...allowLocal, timeoutMs: 300 });
  t.equal(!silent.ok && silent.error.code, 'timeout', 'a server that never answers');
  for (const uri of ['file:///etc/passwd', 'ftp://127.0.0.1/x.mp3', 'gopher://127.0.0.1:70/', 'not a url', `http://user:pw@127.0.0.1:${port}/alert.wav`]) {
    const r = await fetchAudio(uri, allowLocal);
    t.equal(!r.ok && r.error.code, 'bad_uri', uri);
  }
});

t.test('resources: derefUri, uri, digest', async (t) => {
  const b64 = audio.toString('base64').replace(/(.{76})/g, '$1\n');
  const embedded = await loadResourceAudio({ resourceDesc: 'Bản tin', mimeType: 'audio/wav', derefUri: b64, digest: sha1 });
  t.ok(embedded.ok && embedded.from === 'derefUri' && embedded.bytes.equals(audio), 'embedded audio with its digest');
  const wrong = await loadResourceAudio({ resourceDesc: 'x', mimeType: 'audio/wav', derefUri: b64, digest: '0'.repeat(40) });
  t.equal(!wrong.ok && wrong.error.code, 'digest_mismatch');
  const b64digest = await loadResourceAudio({ resourceDesc: 'x', mimeType: 'audio/wav', derefUri: b64, digest: createHash('sha1').update(audio).digest('base64') });
  t.ok(b64digest.ok, 'a base64-written SHA-1 is understood too');
  t.equal((decodeDerefUri(b64, 'audio/wav', 1000) as { error: { code: string } }).error.code, 'too_large', 'size checked from the length, before decoding');
  t.equal((decodeDerefUri('not*base64!', 'audio/wav', 1000) as { error: { code: string } }).error.code, 'bad_base64');
  const image = await loadResourceAudio({ resourceDesc: 'map', mimeType: 'image/png', derefUri: b64 });
  t.equal(!image.ok && image.error.code, 'not_audio');

  const fetched = await loadResourceAudio({ resourceDesc: 'x', mimeType: 'audio/wav', uri: at('/alert.wav'), digest: sha1.toUpperCase() }, allowLocal);
  t.ok(fetched.ok && fetched.from === 'uri', 'uri with a matching digest');
  const tampered = await loadResourceAudio({ resourceDesc: 'x', mimeType: 'audio/wav', uri: at('/alert.wav'), digest: 'f'.repeat(40) }, allowLocal);
  t.equal(!tampered.ok && tampered.error.code, 'digest_mismatch');

  t.same(findAudioResource([
    { resourceDesc: 'map', mimeType: 'image/png', uri: 'http://x/map.png' },
    { resourceDesc: 'voice', mimeType: 'audio/mpeg', uri: 'http://x/v.mp3' },
  ])?.resourceDesc, 'voice');
  t.equal(findAudioResource([{ resourceDesc: 'map', mimeType: 'image/png', uri: 'http://x/map.png' }]), undefined);
});

t.test('address policy', async (t) => {
  const refused = ['127.0.0.1', '127.255.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '100.127.255.255',
    '0.0.0.0', '224.0.0.251', '255.255.255.255', '::', '::1', '::ffff:10.1.1.1', '::ffff:a01:101', '64:ff9b::192.168.1.1', '2002:a00:1::1',
    'fc00::1', 'fdff::1', 'fe80::1%eth0', 'ff02::fb', '2001:db8::1'];
  for (const ip of refused) t.ok(forbiddenAddressReason(ip), `${ip} refused`);
  const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '14.225.0.1', '2001:4860:4860::8888', '2405:4800::1', '::ffff:8.8.8.8'];
  for (const ip of allowed) t.notOk(forbiddenAddressReason(ip), `${ip} allowed`);
});

t.test('every resource refusal code has a Vietnamese and an English message', async (t) => {
  const { MESSAGES } = await import('../../server/i18n.js');
  const all: ResourceErrorCode[] = ['no_audio', 'not_audio', 'not_xml', 'bad_base64', 'bad_uri', 'forbidden_address', 'dns_failed', 'too_many_redirects', 'http_status', 'too_large', 'timeout', 'network', 'digest_mismatch'];
  for (const code of all) t.ok(`cap_resource_${code}` in MESSAGES, code);
});
