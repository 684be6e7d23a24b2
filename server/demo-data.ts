// Demo data for a first look: one province, one district, its 11 communes with their villages
// and a few loudspeaker clusters, plus a handful of endpoints. Created only on an empty database.
// Zone kinds are free text: since the 2025 reform there are no districts, and the tree takes
// whatever depth and naming a place uses.
import type { Kysely } from 'kysely';
import type { DB, NewZone } from './db/types.js';
import { newId } from './ids.js';
import { childPath } from './zone-tree.js';
import { newEndpointCredential } from './auth/endpoint-credential.js';

interface DemoZone {
  kind: string;
  name: string;
  code?: string;
  children?: DemoZone[];
}

const COMMUNES: [string, string, string[]][] = [
  ['Xã Hải An', '19528', ['Thôn Mỹ Thủy', 'Thôn Tân An', 'Thôn Kim Long']],
  ['Xã Hải Ba', '19531', ['Thôn Trung Đơn', 'Thôn Đông Dương']],
  ['Xã Hải Quy', '19534', ['Thôn Quy Thiện', 'Thôn Xuân Lộc', 'Thôn Mỹ Thượng', 'Thôn Văn Trị']],
  ['Xã Hải Khê', '19537', ['Thôn Thuận Đức', 'Thôn Trung An']],
  ['Xã Hải Dương', '19540', ['Thôn Thượng Nguyên', 'Thôn Hải Hòa', 'Thôn Phước Điền']],
  ['Xã Hải Định', '19543', ['Thôn Văn Quỹ', 'Thôn Đơn Duệ']],
  ['Xã Hải Lâm', '19546', ['Thôn Tân Điền', 'Thôn Trường Phước', 'Thôn Câu Nhi']],
  ['Xã Hải Phong', '19549', ['Thôn Phú Kinh', 'Thôn Kim Giao']],
  ['Xã Hải Thượng', '19552', ['Thôn Thượng Xá', 'Thôn Tây Hà', 'Thôn Lam Thủy']],
  ['Xã Hải Trường', '19555', ['Thôn Đông Hồi', 'Thôn Tây Mỹ']],
  ['Xã Hải Sơn', '19558', ['Thôn Đá Hàn', 'Thôn Tân Lập', 'Thôn Hà Lộc', 'Thôn Phú Thọ']],
];

function demoTree(): DemoZone {
  return {
    kind: 'province',
    name: 'Tỉnh Quảng Trị',
    code: '45',
    children: [
      {
        kind: 'district',
        name: 'Huyện Hải Lăng',
        code: '470',
        children: COMMUNES.map(([name, code, villages], ci) => ({
          kind: 'commune',
          name,
          code,
          children: villages.map((village, vi) => ({
            kind: 'village',
            name: village,
            code: `${code}-${String(vi + 1).padStart(2, '0')}`,
            // Every other village has loudspeaker clusters of its own.
            children:
              (ci + vi) % 2 === 0
                ? [
                    { kind: 'cluster', name: 'Cụm loa số 1', code: `${code}-${String(vi + 1).padStart(2, '0')}-1` },
                    ...(vi === 0 ? [{ kind: 'cluster', name: 'Cụm loa số 2', code: `${code}-${String(vi + 1).padStart(2, '0')}-2` }] : []),
                  ]
                : undefined,
          })),
        })),
      },
    ],
  };
}

export interface DemoSummary {
  zones: number;
  endpoints: number;
}

/** Fills an empty database with the demo tree; does nothing when any zone exists. */
export async function createDemoData(db: Kysely<DB>, timeZone: string): Promise<DemoSummary | undefined> {
  const any = await db.selectFrom('zones').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  return db.transaction().execute(async (tx) => {
    const rows: NewZone[] = [];
    const clusters: { id: string; name: string }[] = [];
    const walk = (z: DemoZone, parentId: string | null, parentPath: string | null, label: string) => {
      const id = newId('zone');
      const path = childPath(parentPath, id);
      rows.push({ id, parent_id: parentId, kind: z.kind, name: z.name, code: z.code ?? null, time_zone: timeZone, path });
      if (z.kind === 'cluster') clusters.push({ id, name: `${label} – ${z.name}` });
      for (const c of z.children ?? []) walk(c, id, path, z.kind === 'village' ? z.name : label);
    };
    walk(demoTree(), null, null, '');
    await tx.insertInto('zones').values(rows).execute();
    const picked = clusters.slice(0, 4);
    for (const [i, c] of picked.entries()) {
      const credential = await newEndpointCredential();
      await tx
        .insertInto('endpoints')
        .values({
          id: newId('endpoint'),
          name: `Loa ${c.name}`,
          zone_id: c.id,
          kind: i === 3 ? 'sip' : 'rtp',
          codecs: JSON.stringify(i === 3 ? ['pcmu', 'pcma'] : ['opus', 'pcmu']),
          credential_hash: credential.hash,
        })
        .execute();
    }
    return { zones: rows.length, endpoints: picked.length };
  });
}
