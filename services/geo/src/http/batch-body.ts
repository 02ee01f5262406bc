import { FeaturesBatchRequest } from '@eta/contracts';
import { z } from 'zod';

/**
 * `POST /v1/features/batch` validates its body with this, not with the contract's FeaturesBatchRequest:
 * the same fields, and the same "exactly one shape" rule with the same issue, written as a plain `.check`
 * instead of `.superRefine`. test/http/batch-body.test.ts holds the two to the same answers.
 *
 * Why: on every parse, valid bodies included, zod's superRefine runs `payload.addIssue = (issue) => ...`.
 * V8's parser pretenures a function literal assigned straight to a property, so that closure is allocated
 * in old space, and its context (the payload, whose value is the parsed body) is then referenced from old
 * space: it survives every scavenge until the next Mark-Compact. Each batch request so promoted its whole
 * body, about 4.5 KB with 51 points: 0.9 MB/s and a Mark-Compact every 9 s at 200 requests/s. A `.check`
 * function pushes its issue itself and creates no closure.
 */
export const FeaturesBatchBody = z.object(FeaturesBatchRequest.shape).check((ctx) => {
  const b = ctx.value;
  const shapeA = b.origin !== undefined && b.destinations !== undefined;
  const shapeB = b.destination !== undefined && b.origins !== undefined;
  if (shapeA === shapeB) {
    ctx.issues.push({
      code: 'custom',
      path: b.origin !== undefined ? ['destinations'] : b.destination !== undefined ? ['origins'] : [],
      message: 'send either { origin, destinations: [...] } or { destination, origins: [...] }',
      input: b,
    });
  }
});
