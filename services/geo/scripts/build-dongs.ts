/**
 * Derives data/seoul-dongs.json from the admdongkor administrative-dong GeoJSON.
 *
 *   node services/geo/scripts/build-dongs.ts [source.geojson] [out.json]
 *
 * Defaults read /work/shared/data/seoul-geo/hangjeongdong_seoul_ver20210401.geojson. The output is committed,
 * so the service never needs the shared folder at run time; rerun this only when the source changes.
 *
 * Why a derived file instead of the GeoJSON: coordinates are quantized to 1e-6 degrees (about 0.1 m, far
 * finer than the source's accuracy) and delta-encoded as integers, which makes the file about half the size
 * and lets the loader fill typed arrays without building millions of small [lng, lat] arrays.
 * The gu layer is derived from the same file (every dong carries its gu code `sgg`), so dong and gu can never
 * disagree at a border, as two files from different years (JUSO 2015 gu, SGIS 2021 dong) would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COORD_SCALE, DONGS_FORMAT, type DongsFile } from '../src/domain/data-format.ts';

const here = dirname(fileURLToPath(import.meta.url));
const source = process.argv[2] ?? '/work/shared/data/seoul-geo/hangjeongdong_seoul_ver20210401.geojson';
const out = process.argv[3] ?? join(here, '..', 'data', 'seoul-dongs.json');

interface SourceFeature {
  properties: { adm_nm: string; adm_cd: string; adm_cd2: string; sgg: string; sggnm: string };
  geometry: { type: 'MultiPolygon' | 'Polygon'; coordinates: unknown };
}

const geojson = JSON.parse(readFileSync(source, 'utf8')) as { features: SourceFeature[] };

/** One ring as [x0, y0, dx1, dy1, ...] in 1e-6 degree units; the closing vertex is implied. */
function encodeRing(ring: readonly (readonly number[])[]): number[] {
  const pts = ring.map(([lng, lat]) => [Math.round(lng! * COORD_SCALE), Math.round(lat! * COORD_SCALE)]);
  const first = pts[0];
  const last = pts[pts.length - 1];
  if (first && last && first[0] === last[0] && first[1] === last[1]) pts.pop();
  const encoded: number[] = [];
  let px = 0;
  let py = 0;
  for (const [x, y] of pts) {
    // Quantizing can make two neighbours identical; a zero-length edge only costs time in the lookup.
    if (encoded.length > 0 && x === px && y === py) continue;
    encoded.push(x! - px, y! - py);
    px = x!;
    py = y!;
  }
  if (encoded.length < 6) throw new Error('ring with fewer than 3 distinct vertices');
  return encoded;
}

const gus = new Map<string, string>();
const dongs: DongsFile['dongs'] = [];
for (const f of geojson.features) {
  const p = f.properties;
  const polygons =
    f.geometry.type === 'Polygon'
      ? [f.geometry.coordinates as number[][][]]
      : (f.geometry.coordinates as number[][][][]);
  const name = p.adm_nm.split(' ').at(-1)!;
  if (!p.adm_cd2.startsWith(p.sgg)) throw new Error(`dong ${p.adm_cd2} is not inside gu ${p.sgg}`);
  const knownGu = gus.get(p.sgg);
  if (knownGu !== undefined && knownGu !== p.sggnm) throw new Error(`gu ${p.sgg} has two names`);
  gus.set(p.sgg, p.sggnm);
  dongs.push({
    code: p.adm_cd2,
    kostatCode: p.adm_cd,
    name,
    gu: p.sgg,
    polygons: polygons.map((rings) => rings.map(encodeRing)),
  });
}
dongs.sort((a, b) => a.code.localeCompare(b.code));

const file: DongsFile = {
  format: DONGS_FORMAT,
  source:
    'vuski/admdongkor ver20210401 (Seoul extract via raqoon886/Local_HangJeongDong), boundaries from KOSTAT SGIS; see data/ATTRIBUTION.md',
  scale: COORD_SCALE,
  gus: [...gus].map(([code, name]) => ({ code, name })).sort((a, b) => a.code.localeCompare(b.code)),
  dongs,
};

// One dong per line keeps diffs readable when the source is updated.
const lines = file.dongs.map((d) => '    ' + JSON.stringify(d));
const header = JSON.stringify({ ...file, dongs: [] }, null, 2).replace(/"dongs": \[\]\n}$/, '');
writeFileSync(out, `${header}"dongs": [\n${lines.join(',\n')}\n  ]\n}\n`);
console.log(`wrote ${out}: ${file.gus.length} gu, ${file.dongs.length} dong`);
