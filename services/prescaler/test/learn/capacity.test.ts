import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCapacity } from '../../src/learn/capacity.ts';
import { TARGETS } from '../../src/learn/targets.ts';

const fixture = readFileSync(join(import.meta.dirname, 'fixtures/capacity.json'), 'utf8');
const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../src/learn/capacity.schema.json'), 'utf8'),
) as {
  required: string[];
  properties: Record<string, unknown> & {
    roles: {
      propertyNames: { enum: string[] };
      additionalProperties: { required: string[]; properties: Record<string, unknown> };
    };
  };
};

describe('capacity file', () => {
  it('reads the example, with defaults where it says nothing', () => {
    const c = parseCapacity(fixture);
    expect(c.roles['vendor-bff-precise']).toEqual({
      rpsPerPod: 2000,
      sloP99Ms: 50,
      podStartSeconds: 60,
      cpuAtCapacityPercent: 76,
      maxCpuPercent: 100,
    });
    // No CPU figures: 100 % at capacity, and the same ceiling.
    expect(c.roles['vendor-bff-admin']).toEqual({
      rpsPerPod: 300,
      sloP99Ms: 300,
      podStartSeconds: 60,
      cpuAtCapacityPercent: 100,
      maxCpuPercent: 100,
    });
    expect(Object.keys(c.roles).sort()).toEqual([...TARGETS].sort());
  });

  it('names every bad field at once', () => {
    const bad = JSON.stringify({
      version: 2,
      extra: true,
      roles: {
        checkout: { rpsPerPod: 1 },
        geo: { rpsPerpod: 100 },
        'ml-proxy': { rpsPerPod: 0, podStartSeconds: -1 },
        'vendor-bff-rough': { rpsPerPod: 10, cpuAtCapacityPercent: 120, maxCpuPercent: 100 },
      },
    });
    let message = '';
    try {
      parseCapacity(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const part of [
      'extra: unknown key',
      'version: expected 1, found 2',
      'roles.checkout: not a target',
      'roles.geo.rpsPerpod: unknown key',
      'roles.geo.rpsPerPod: required',
      'roles.ml-proxy.rpsPerPod: expected a number > 0, found 0',
      'roles.ml-proxy.podStartSeconds: expected seconds, 0..3600, found -1',
      'roles.vendor-bff-rough.maxCpuPercent: 100 is below cpuAtCapacityPercent 120',
    ]) {
      expect(message).toContain(part);
    }
  });

  it('refuses what is not JSON, or has no roles', () => {
    expect(() => parseCapacity('{')).toThrow(/not JSON/);
    expect(() => parseCapacity('{"version":1,"roles":{}}')).toThrow(
      /roles: expected an object with at least one role/,
    );
    expect(() => parseCapacity('[]')).toThrow(/expected an object/);
  });

  it('accepts exactly what its JSON schema describes', () => {
    expect(schema.required).toEqual(['version', 'roles']);
    expect(schema.properties.roles.propertyNames.enum).toEqual([...TARGETS]);
    expect(schema.properties.roles.additionalProperties.required).toEqual(['rpsPerPod']);
    // Every property the schema allows is accepted, one more is refused.
    const role: Record<string, unknown> = { rpsPerPod: 10 };
    for (const k of Object.keys(schema.properties.roles.additionalProperties.properties)) {
      if (k !== 'rpsPerPod') role[k] = k === 'meta' ? {} : 50;
    }
    const top: Record<string, unknown> = { version: 1, roles: { geo: role } };
    for (const k of Object.keys(schema.properties)) {
      if (!(k in top)) top[k] = k === 'meta' ? {} : 'text';
    }
    expect(() => parseCapacity(JSON.stringify(top))).not.toThrow();
    expect(() => parseCapacity(JSON.stringify({ ...top, roles: { geo: { ...role, burst: 1 } } }))).toThrow(
      /roles.geo.burst: unknown key/,
    );
  });
});
