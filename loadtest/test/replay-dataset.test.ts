// The replay's reader of the shared orders file: the cleaning rules on made-up rows in the file's format
// (the dataset's own rows are never copied here: its licence is unclear), then the real file's counts.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DATASET_COLUMNS,
  parseClock,
  parseOrderRow,
  parseOrdersCsv,
  readOrdersFile,
  type DatasetOrder,
} from '../lib/replay/dataset.ts';
import { haversineM } from '../lib/replay/geometry.ts';
import { defaultDataPath } from '../lib/replay/replay.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

type Row = Record<(typeof DATASET_COLUMNS)[number], string>;

/** A made-up row in the file's format (trailing spaces, prefixes, `NaN ` markers). */
function row(over: Partial<Row> = {}): string[] {
  const base: Row = {
    ID: '0xabc1 ',
    Delivery_person_ID: 'TESTRES01DEL01 ',
    Delivery_person_Age: '30',
    Delivery_person_Ratings: '4.7',
    Restaurant_latitude: '12.000000',
    Restaurant_longitude: '77.000000',
    Delivery_location_latitude: '12.030000',
    Delivery_location_longitude: '77.030000',
    Order_Date: '01-03-2022',
    Time_Orderd: '19:40:00',
    Time_Order_picked: '19:50:00',
    Weatherconditions: 'conditions Sunny',
    Road_traffic_density: 'Jam ',
    Vehicle_condition: '2',
    Type_of_order: 'Meal ',
    Type_of_vehicle: 'electric_scooter ',
    multiple_deliveries: '1',
    Festival: 'No ',
    City: 'Metropolitian ',
    'Time_taken(min)': '(min) 31',
  };
  const r = { ...base, ...over };
  return DATASET_COLUMNS.map((c) => r[c]);
}

function order(over: Partial<Row> = {}): DatasetOrder {
  const parsed = parseOrderRow(row(over));
  if (typeof parsed === 'string') throw new Error(`row skipped: ${parsed}`);
  return parsed;
}

describe('parseOrderRow', () => {
  it('cleans a full row: trimmed id and labels, City to the region class, the target without its prefix', () => {
    const o = order();
    expect(o).toMatchObject({
      id: '0xabc1',
      riderId: 'TESTRES01DEL01',
      restaurantKey: '12.000000,77.000000',
      regionClass: 'metropolitan',
      orderedAtS: 19 * 3600 + 40 * 60,
      orderTimeKnown: true,
      prepMinutes: 10,
      actualMinutes: 31,
      orderType: 'meal',
      vehicleType: 'electric_scooter',
      vehicleCondition: 2,
      riderAge: 30,
      riderRating: 4.7,
      multipleDeliveries: 1,
      festival: false,
    });
    expect(o.distanceM).toBeCloseTo(haversineM(12, 77, 12.03, 77.03), 6);
    // 0.03 degrees on both axes near 12 N is about 4.6 km.
    expect(o.distanceM).toBeGreaterThan(4_500);
    expect(o.distanceM).toBeLessThan(4_700);
  });

  it('maps every City label the file has to the suite region classes, NaN to no class', () => {
    expect(order({ City: 'Urban ' }).regionClass).toBe('urban');
    expect(order({ City: 'Semi-Urban ' }).regionClass).toBe('semi-urban');
    expect(order({ City: 'Metropolitian ' }).regionClass).toBe('metropolitan');
    expect(order({ City: 'NaN ' }).regionClass).toBeNull();
  });

  it('repairs negative coordinates with abs() and refuses restaurants at (0, 0)', () => {
    const repaired = order({ Restaurant_latitude: '-12.000000', Restaurant_longitude: '-77.000000' });
    expect(repaired.distanceM).toBeCloseTo(order().distanceM, 6);
    expect(repaired.restaurantKey).toBe('12.000000,77.000000');
    expect(
      parseOrderRow(
        row({
          Restaurant_latitude: '0.0',
          Restaurant_longitude: '0.0',
          Delivery_location_latitude: '0.05',
          Delivery_location_longitude: '0.05',
        }),
      ),
    ).toBe('no-geometry');
  });

  it('takes a missing order time as pickup - 10 min, and wraps a pickup past midnight', () => {
    const missing = order({ Time_Orderd: 'NaN ', Time_Order_picked: '00:05:00' });
    expect(missing.orderTimeKnown).toBe(false);
    expect(missing.orderedAtS).toBe(23 * 3600 + 55 * 60);
    expect(missing.prepMinutes).toBe(10);
    const wrapped = order({ Time_Orderd: '23:55:00', Time_Order_picked: '00:10:00' });
    expect(wrapped.orderedAtS).toBe(23 * 3600 + 55 * 60);
    expect(wrapped.prepMinutes).toBe(15);
    expect(parseOrderRow(row({ Time_Orderd: 'NaN ', Time_Order_picked: 'NaN ' }))).toBe('no-time');
  });

  it('drops rider facts the estimate API would refuse: sentinel riders and out-of-range values', () => {
    expect(order({ Delivery_person_Age: '15', Delivery_person_Ratings: '1' })).toMatchObject({
      riderAge: null,
      riderRating: null,
    });
    expect(order({ Delivery_person_Age: '50', Delivery_person_Ratings: '6' })).toMatchObject({
      riderAge: null,
      riderRating: null,
    });
    expect(order({ Delivery_person_Age: 'NaN ', Delivery_person_Ratings: '6' })).toMatchObject({
      riderAge: null,
      riderRating: null,
    });
    expect(order({ multiple_deliveries: 'NaN ', Festival: 'NaN ', Vehicle_condition: '7' })).toMatchObject({
      multipleDeliveries: null,
      festival: null,
      vehicleCondition: null,
    });
    expect(order({ Festival: 'Yes ' }).festival).toBe(true);
  });

  it('refuses rows without a target, with the wrong number of fields, or with an id no order id can carry', () => {
    expect(parseOrderRow(row({ 'Time_taken(min)': 'NaN ' }))).toBe('no-target');
    expect(parseOrderRow(row().slice(1))).toBe('malformed');
    expect(parseOrderRow(row({ ID: ' ' }))).toBe('malformed');
    expect(parseOrderRow(row({ ID: '0x 12' }))).toBe('malformed');
  });
});

describe('parseClock', () => {
  it('reads HH:MM:SS and HH:MM, and nothing past a day', () => {
    expect(parseClock('08:30:15')).toBe(8 * 3600 + 30 * 60 + 15);
    expect(parseClock(' 21:05 ')).toBe(21 * 3600 + 5 * 60);
    expect(parseClock('24:00:00')).toBeNull();
    expect(parseClock('NaN ')).toBeNull();
    expect(parseClock('7.5')).toBeNull();
  });
});

describe('parseOrdersCsv', () => {
  const header = DATASET_COLUMNS.join(',');

  it('reads CRLF lines after the documented header, counting what it skips and repeated ids', () => {
    const lines = [
      header,
      row({ ID: '0x0001 ' }).join(','),
      row({ ID: '0x0002 ', 'Time_taken(min)': 'NaN ' }).join(','),
      row({ ID: '0x0001 ' }).join(','),
      row({ ID: '0x0003 ', Restaurant_latitude: '0.0', Restaurant_longitude: '0.0' }).join(','),
      '',
    ];
    const parsed = parseOrdersCsv(lines.join('\r\n'));
    expect(parsed.rowsRead).toBe(4);
    expect(parsed.orders.map((o) => o.id)).toEqual(['0x0001']);
    expect(parsed.skipped).toEqual({ 'no-geometry': 1, 'no-target': 1, 'no-time': 0, malformed: 1 });
  });

  it('refuses a file whose header is not the documented one', () => {
    expect(() => parseOrdersCsv(header.replace('Time_Orderd', 'Time_Ordered'))).toThrow(
      /not the orders file/,
    );
  });
});

describe('the shared orders file', { timeout: 60_000 }, () => {
  const path = defaultDataPath(ROOT);

  it('has the documented rows; the usable ones keep their distance, target and time within the documented ranges', async () => {
    expect(existsSync(path), `${path} (../shared/data beside the checkout)`).toBe(true);
    const data = await readOrdersFile(path);
    // ../shared/data/README.md: 36,511 rows; the zero-coordinate restaurants are the only unusable ones.
    expect(data.rowsRead).toBe(36_511);
    expect(data.skipped['no-target'] + data.skipped['no-time'] + data.skipped.malformed).toBe(0);
    expect(data.orders.length + data.skipped['no-geometry']).toBe(36_511);
    const distances = data.orders.map((o) => o.distanceM);
    // "after abs(), no restaurant-customer distance exceeds 21 km" (README caveat 4); 1.5 km the least.
    expect(Math.max(...distances)).toBeLessThan(21_000);
    expect(Math.min(...distances)).toBeGreaterThan(1_000);
    const minutes = data.orders.map((o) => o.actualMinutes);
    expect(Math.min(...minutes)).toBe(10);
    expect(Math.max(...minutes)).toBe(54);
    expect(new Set(data.orders.map((o) => o.prepMinutes))).toEqual(new Set([5, 10, 15]));
    // No orders between 01:00 and 07:59 (caveat 7).
    expect(data.orders.filter((o) => o.orderedAtS >= 3600 && o.orderedAtS < 8 * 3600)).toEqual([]);
  });
});
