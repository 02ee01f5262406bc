import { describe, expect, it } from 'vitest';
import { parsePlan, parseTarget, UsageError } from '../src/plan.ts';

describe('parseTarget', () => {
  it('takes the default namespace unless the target names one', () => {
    expect(parseTarget('eta-vendor-bff-precise=6', 'eta', 1)).toEqual({
      namespace: 'eta',
      name: 'eta-vendor-bff-precise',
      value: 6,
    });
    expect(parseTarget('rough/eta-vendor-bff-rough=4', 'eta', 1)).toEqual({
      namespace: 'rough',
      name: 'eta-vendor-bff-rough',
      value: 4,
    });
  });

  it.each([
    ['no value', 'a'],
    ['empty value', 'a='],
    ['negative', 'a=-1'],
    ['fraction', 'a=1.5'],
    ['not a number', 'a=six'],
    ['upper case name', 'A=1'],
    ['bad namespace', 'Bad_NS/a=1'],
    ['empty name', 'ns/=1'],
    ['above int32', 'a=2147483648'],
  ])('refuses %s (%s) with a usage error', (_why, spec) => {
    expect(() => parseTarget(spec, 'eta', 0)).toThrow(UsageError);
  });

  it('refuses minReplicas 0 for an HPA but allows 0 placeholder replicas', () => {
    expect(() => parseTarget('a=0', 'eta', 1)).toThrow(/out of range/);
    expect(parseTarget('a=0', 'eta', 0).value).toBe(0);
  });
});

describe('parsePlan', () => {
  it('needs at least one target', () => {
    expect(() => parsePlan([], [], 'eta')).toThrow(/nothing to do/);
  });

  it('refuses two values for one object, whatever the namespace spelling', () => {
    expect(() => parsePlan(['a=2', 'eta/a=3'], [], 'eta')).toThrow(/given twice/);
    // The same name as an HPA and as a Deployment is two objects.
    expect(parsePlan(['a=2'], ['a=3'], 'eta').deployments).toHaveLength(1);
  });
});
