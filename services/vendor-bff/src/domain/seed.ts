import type { SettingsValues } from './settings.ts';
import type { OrderCategory, RegionClass, Store } from './stores.ts';

/**
 * Deterministic demo/load-test stores for Seoul. Same inputs (count, seed, dong data, clock) give the same
 * stores: ids 1..N, positions, names, categories and settings, so load tests and bug reports can name a
 * store by id on any machine.
 *
 * Placement: a dong is drawn with probability proportional to its food-shop density (data/seed-dongs.json,
 * derived from Geo's per-dong aggregate), then a point uniformly inside that dong's polygon (rejection
 * sampling in its bounding box). The store's dong, gu and region class are the dong it was drawn in, so
 * they agree with Geo's point-in-polygon lookup on the same boundaries without calling Geo.
 */

export interface SeedDong {
  readonly code: string;
  readonly name: string;
  readonly gu: string;
  readonly regionClass: RegionClass;
  readonly weight: number;
  /** Geo's encoding: per polygon, outer ring then holes; each ring [x0, y0, dx1, dy1, ...] in 1e-6 deg. */
  readonly polygons: readonly (readonly (readonly number[])[])[];
}

export interface SeedData {
  readonly scale: number;
  readonly dongs: readonly SeedDong[];
}

export interface SeedStore {
  readonly store: Store;
  readonly settings: SettingsValues;
}

export interface SeedOptions {
  readonly count: number;
  /** PRNG seed; change it for a different but equally deterministic city. */
  readonly seed?: number;
  /** Busy modes end relative to this instant (the only clock-dependent value). */
  readonly now: Date;
}

export const DEFAULT_SEED = 20_240_401;

/** sfc32: small, fast, and good enough for sampling; Math.random cannot be seeded. */
export function createPrng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
  // The first outputs of sfc32 still carry the seed's pattern; discard them.
  for (let i = 0; i < 15; i++) next();
  return next;
}

interface Ring {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
}

interface PreparedDong {
  readonly dong: SeedDong;
  /** Rings of all polygons (outer and holes): even-odd over all of them is point-in-multipolygon. */
  readonly rings: readonly Ring[];
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

function decodeRing(encoded: readonly number[]): Ring {
  const n = encoded.length / 2;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let x = 0;
  let y = 0;
  for (let i = 0; i < n; i++) {
    x += encoded[2 * i]!;
    y += encoded[2 * i + 1]!;
    xs[i] = x;
    ys[i] = y;
  }
  return { xs, ys };
}

function prepare(dong: SeedDong): PreparedDong {
  const rings = dong.polygons.flatMap((polygon) => polygon.map(decodeRing));
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const r of rings) {
    for (let i = 0; i < r.xs.length; i++) {
      minX = Math.min(minX, r.xs[i]!);
      maxX = Math.max(maxX, r.xs[i]!);
      minY = Math.min(minY, r.ys[i]!);
      maxY = Math.max(maxY, r.ys[i]!);
    }
  }
  return { dong, rings, minX, minY, maxX, maxY };
}

/** Even-odd ray casting over every ring (holes subtract, separate polygons add). Units: Geo's integers. */
export function insideRings(rings: readonly Ring[], x: number, y: number): boolean {
  let inside = false;
  for (const { xs, ys } of rings) {
    const n = xs.length;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const yi = ys[i]!;
      const yj = ys[j]!;
      if (yi > y !== yj > y) {
        const xi = xs[i]!;
        const xj = xs[j]!;
        if (x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

/** Whether a WGS84 point lies inside the dong (for tests and checks). */
export function dongContains(dong: SeedDong, scale: number, lat: number, lng: number): boolean {
  return insideRings(prepare(dong).rings, lng * scale, lat * scale);
}

// ------------------------------------------------------------------------------------------- names

const CATEGORIES: readonly (readonly [OrderCategory, number])[] = [
  ['meal', 0.55],
  ['snack', 0.25],
  ['drinks', 0.14],
  ['buffet', 0.06],
];

const PREFIXES = [
  '원조',
  '옛날',
  '할매',
  '행복한',
  '24시',
  '명품',
  '황금',
  '대박',
  '착한',
  '우리',
  '엄마손',
  '시골',
  '전통',
  '새벽',
  '골목',
  '진짜',
  '왕',
  '달인',
  '고향',
  '청년',
  '본가',
  '한옛날',
  '맛있는',
  '정성',
] as const;

const CORES: Readonly<Record<OrderCategory, readonly string[]>> = {
  meal: [
    '국밥',
    '김치찌개',
    '돈까스',
    '짜장',
    '짬뽕',
    '족발',
    '보쌈',
    '찜닭',
    '치킨',
    '삼겹살',
    '냉면',
    '칼국수',
    '비빔밥',
    '순대국',
    '감자탕',
    '불고기',
    '제육',
    '초밥',
    '쌀국수',
    '피자',
    '도시락',
    '닭갈비',
    '곱창',
    '부대찌개',
  ],
  snack: [
    '떡볶이',
    '김밥',
    '순대',
    '튀김',
    '만두',
    '핫도그',
    '토스트',
    '붕어빵',
    '호떡',
    '꼬치',
    '닭강정',
    '라면',
  ],
  drinks: ['커피', '카페', '빙수', '버블티', '주스', '스무디', '베이커리', '디저트', '와플', '티하우스'],
  buffet: ['한식뷔페', '샐러드뷔페', '고기뷔페', '초밥뷔페', '분식뷔페'],
};

const SUFFIXES = [
  '',
  '',
  '',
  '집',
  '나라',
  '천국',
  '마을',
  '하우스',
  '식당',
  '상회',
  '공방',
  '명가',
] as const;

function pick<T>(items: readonly T[], r: number): T {
  return items[Math.min(items.length - 1, Math.floor(r * items.length))]!;
}

/** "역삼1동" -> "역삼", "종로1·2·3·4가동" -> "종로": a branch is named after its neighbourhood. */
function branchName(dongName: string): string {
  const base = dongName.replace(/(제?\d.*)?동$/, '').replace(/\d.*$/, '');
  return base.length > 0 ? base : dongName;
}

// ------------------------------------------------------------------------------------------- generate

export function generateSeedStores(data: SeedData, opts: SeedOptions): SeedStore[] {
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new RangeError('count must be an integer >= 0');
  const prepared = data.dongs.filter((d) => d.weight > 0).map(prepare);
  if (prepared.length === 0) throw new RangeError('seed data has no dong with a positive weight');
  const cumulative: number[] = [];
  let total = 0;
  for (const p of prepared) {
    total += p.dong.weight;
    cumulative.push(total);
  }
  const rand = createPrng(opts.seed ?? DEFAULT_SEED);
  const nowMs = opts.now.getTime();

  const drawDong = (): PreparedDong => {
    const target = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return prepared[lo]!;
  };

  const drawPoint = (p: PreparedDong): { lat: number; lng: number } => {
    // Dongs fill a good part of their box, so a few tries suffice; the bound only guards bad data.
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const x = Math.round(p.minX + rand() * (p.maxX - p.minX));
      const y = Math.round(p.minY + rand() * (p.maxY - p.minY));
      if (insideRings(p.rings, x, y)) return { lat: y / data.scale, lng: x / data.scale };
    }
    throw new Error(`could not place a point inside dong ${p.dong.code}`);
  };

  const drawCategory = (): OrderCategory => {
    let r = rand();
    for (const [category, share] of CATEGORIES) {
      if (r < share) return category;
      r -= share;
    }
    return 'meal';
  };

  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

  const out: SeedStore[] = [];
  for (let id = 1; id <= opts.count; id++) {
    const p = drawDong();
    const { lat, lng } = drawPoint(p);
    const category = drawCategory();
    const name = `${pick(PREFIXES, rand())}${pick(CORES[category], rand())}${pick(SUFFIXES, rand())} ${branchName(p.dong.name)}점`;

    const manualPrepMinutes = between(10, 30);
    const manualDeliveryMinutes = between(15, 40);
    const clamped = rand() < 0.2;
    const minShownMinutes = clamped ? between(10, 30) : null;
    const maxShownMinutes = minShownMinutes === null ? null : minShownMinutes + between(15, 45);
    const busy =
      rand() < 0.03
        ? { extraMinutes: between(1, 6) * 5, until: new Date(nowMs + between(2, 12) * 15 * 60_000) }
        : null;

    out.push({
      store: {
        id,
        name,
        lat,
        lng,
        category,
        dongCode: p.dong.code,
        guCode: p.dong.gu,
        regionClass: p.dong.regionClass,
      },
      settings: {
        autoPrediction: rand() < 0.8,
        manualPrepMinutes,
        manualDeliveryMinutes,
        minShownMinutes,
        maxShownMinutes,
        busy,
      },
    });
  }
  return out;
}
