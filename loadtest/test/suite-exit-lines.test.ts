import { describe, expect, it } from 'vitest';
import { worthTellingAtExit } from '../lib/suite.ts';

describe('worthTellingAtExit', () => {
  it("keeps a service's error and fatal log lines and drops its info and warn lines", () => {
    expect(worthTellingAtExit('{"severity":"ERROR","level":50,"message":"shutdown timed out"}')).toBe(true);
    expect(worthTellingAtExit('{"severity":"CRITICAL","level":60,"message":"fatal error"}')).toBe(true);
    expect(worthTellingAtExit('{"severity":"INFO","level":30,"message":"stopped"}')).toBe(false);
    expect(worthTellingAtExit('{"severity":"WARNING","level":40,"message":"slow"}')).toBe(false);
  });

  it('keeps what a process writes to stderr before an abort, which is not JSON', () => {
    expect(worthTellingAtExit("terminate called after throwing an instance of 'std::system_error'")).toBe(
      true,
    );
    expect(worthTellingAtExit('FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal')).toBe(true);
    expect(worthTellingAtExit('   ')).toBe(false);
    expect(worthTellingAtExit('')).toBe(false);
  });
});
