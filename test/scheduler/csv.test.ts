import t from 'tap';
import { asRunToCsv, csvField } from '../../scheduler/csv.js';
import type { AsRunRow } from '../../scheduler/as-run.js';

/** A strict RFC 4180 reader, to check that what we write reads back field for field. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); out.push(row); row = []; field = ''; i += 2; continue; }
    if (c === '"' || c === '\n' || c === '\r') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    field += c; i++;
  }
  if (field !== '' || row.length > 0) throw new Error('last line not terminated by CRLF');
  return out;
}

t.test('Vietnamese text with commas, quotes and newlines survives', async (t) => {
  const rows: AsRunRow[] = [
    {
      zoneId: 'xã Tân Phú', programme: 'Bản tin "Nông thôn mới", số 12\nphát lại', programmeKind: 'media',
      entryId: 'e1', airingId: 'e1@2026-11-22T22:30:00.000Z', event: 'start', reason: 'theo lịch', atUtcMs: Date.parse('2026-11-22T22:30:00Z'),
      mediaPositionMs: 0, by: 'timetable',
    },
    {
      zoneId: 'thôn Đông', programme: '=HYPERLINK("http://x")', programmeKind: 'alert', manualProgrammeId: 'cb-7', event: 'preempted',
      reason: 'cảnh báo bão, cấp 12', atUtcMs: Date.parse('2026-11-22T22:45:30.250Z'), mediaPositionMs: 930_250, by: 'alert',
    },
  ];
  const csv = asRunToCsv(rows);
  t.ok(csv.startsWith('\uFEFF'), 'starts with a BOM for Excel');
  const bytes = Buffer.from(csv, 'utf8');
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  t.ok(bytes.includes(Buffer.from('Bản tin', 'utf8')), 'UTF-8, not mangled');
  const table = parseCsv(csv.slice(1));
  t.same(table[0], ['time', 'zone', 'programme', 'kind', 'event', 'reason', 'entry', 'airing', 'manual programme', 'media position (ms)', 'by']);
  t.same(table[1], ['2026-11-23T05:30:00+07:00', 'xã Tân Phú', 'Bản tin "Nông thôn mới", số 12\nphát lại', 'media', 'start', 'theo lịch', 'e1', 'e1@2026-11-22T22:30:00.000Z', '', '0', 'timetable']);
  t.same(table[2], ['2026-11-23T05:45:30.250+07:00', 'thôn Đông', `'=HYPERLINK("http://x")`, 'alert', 'preempted', 'cảnh báo bão, cấp 12', '', '', 'cb-7', '930250', 'alert']);
  t.equal(table.length, 3);
  t.match(csv, /"Bản tin ""Nông thôn mới"", số 12\nphát lại"/, 'quotes doubled inside a quoted field');
});

t.test('fields are quoted only when needed', async (t) => {
  t.equal(csvField('Hà Nội'), 'Hà Nội');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField('line\r\nbreak'), '"line\r\nbreak"');
  t.equal(csvField(undefined), '');
  t.equal(csvField(12), '12');
  t.equal(asRunToCsv([], { bom: false, timeZone: 'UTC' }).startsWith('time,'), true);
});
