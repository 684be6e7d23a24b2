import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.host, '0.0.0.0');
  t.equal(c.port, 8080);
  t.equal(c.dataDir, path.resolve('./data'));
  t.equal(c.databaseUrl, undefined);
  t.ok(existsSync(c.ffmpegPath), 'an ffmpeg that exists (the system one, else the bundled one)');
  t.equal(c.timezone, 'Asia/Ho_Chi_Minh');
  t.equal(c.demoData, true);
  t.equal(c.adminPassword, undefined);
  t.equal(c.logLevel, 'info');
  t.equal(c.maxUploadMb, 200);
  t.equal(c.rtpPort, 5004);
  t.equal(c.publicHost, undefined);
  t.equal(c.lang, 'vi');
});

t.test('environment values are parsed', async (t) => {
  const c = loadConfig({
    LOA_HOST: '127.0.0.1',
    LOA_PORT: '9000',
    LOA_DATA_DIR: '/var/lib/loa',
    DATABASE_URL: 'postgres://u@db/loa',
    FFMPEG_PATH: '/usr/bin/ffmpeg',
    LOA_TIMEZONE: 'Europe/Paris',
    LOA_DEMO_DATA: 'false',
    LOA_ADMIN_PASSWORD: 'long-enough',
    LOA_LOG_LEVEL: 'debug',
    LOA_MAX_UPLOAD_MB: '50',
    LOA_RTP_PORT: '6000',
    LOA_PUBLIC_HOST: 'loa.example.vn',
    LOA_LANG: 'en',
  });
  t.match(c, {
    host: '127.0.0.1',
    port: 9000,
    dataDir: '/var/lib/loa',
    databaseUrl: 'postgres://u@db/loa',
    ffmpegPath: '/usr/bin/ffmpeg',
    timezone: 'Europe/Paris',
    demoData: false,
    adminPassword: 'long-enough',
    logLevel: 'debug',
    maxUploadMb: 50,
    rtpPort: 6000,
    publicHost: 'loa.example.vn',
    lang: 'en',
  });
});

t.test('invalid values name the setting, the value and what is allowed', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ LOA_PORT: 'abc' }, /^LOA_PORT: "abc" is not a port; expected an integer 1–65535$/],
    [{ LOA_PORT: '70000' }, /^LOA_PORT: 70000 is not a port; expected an integer 1–65535$/],
    [{ LOA_PORT: '0' }, /^LOA_PORT: 0 is not a port/],
    [{ LOA_RTP_PORT: '5004.5' }, /^LOA_RTP_PORT: "5004.5" is not a port/],
    [{ LOA_RTP_PORT: '65536' }, /^LOA_RTP_PORT: 65536 is not a port; expected an integer 0–65535/],
    [{ LOA_MULTICAST_INTERFACE: 'eth0' }, /^LOA_MULTICAST_INTERFACE: "eth0" is not allowed; expected the IPv4 address of the interface/],
    [{ LOA_TIMEZONE: 'Asia/Saigonn' }, /^LOA_TIMEZONE: "Asia\/Saigonn" is not a known time zone; expected an IANA time zone/],
    [{ LOA_DEMO_DATA: 'maybe' }, /^LOA_DEMO_DATA: "maybe" is not a boolean; expected true or false$/],
    [{ LOA_LOG_LEVEL: 'loud' }, /^LOA_LOG_LEVEL: "loud" is not allowed; expected one of fatal, error, warn, info, debug, trace, silent$/],
    [{ LOA_MAX_UPLOAD_MB: '-5' }, /^LOA_MAX_UPLOAD_MB: "-5" is not an integer/],
    [{ LOA_MAX_UPLOAD_MB: '0' }, /^LOA_MAX_UPLOAD_MB: 0 is not allowed; expected an integer number of megabytes/],
    [{ LOA_LANG: 'fr' }, /^LOA_LANG: "fr" is not allowed; expected one of vi, en$/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: "mysql:\/\/x" is not a PostgreSQL URL/],
    [{ LOA_ADMIN_PASSWORD: 'short' }, /^LOA_ADMIN_PASSWORD: the value given is not allowed; expected a password of at least 8 characters$/],
    [{ DATABASE_URL: 'mysql://loa:hunter22@db/x' }, /^DATABASE_URL: "mysql:\/\/\*\*\*@db\/x" is not a PostgreSQL URL/],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env));
  }
  t.ok(loadConfig({ LOA_PORT: '' }).port === 8080, 'an empty variable counts as unset');
});

t.test('JSON file via LOA_CONFIG, environment wins', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'loa.json');
  writeFileSync(file, JSON.stringify({ port: 7000, LOA_TIMEZONE: 'Asia/Bangkok', demoData: false, maxUploadMb: 10 }));
  const c = loadConfig({ LOA_CONFIG: file, LOA_PORT: '7001' });
  t.equal(c.port, 7001, 'env over file');
  t.equal(c.timezone, 'Asia/Bangkok');
  t.equal(c.demoData, false);
  t.equal(c.maxUploadMb, 10);

  writeFileSync(file, JSON.stringify({ port: 'x' }));
  t.throws(() => loadConfig({ LOA_CONFIG: file }), /^LOA_PORT: "x" is not a port/);
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  t.throws(() => loadConfig({ LOA_CONFIG: file }), /unknown setting "prot"/);
  writeFileSync(file, '{ nope');
  t.throws(() => loadConfig({ LOA_CONFIG: file }), /LOA_CONFIG: .* is not valid JSON/);
  t.throws(() => loadConfig({ LOA_CONFIG: path.join(dir, 'missing.json') }), ConfigError);
});
