/**
 * What the BFF's OpenAPI document (the kit's `GET /openapi.json`) says about its credentials: one security
 * scheme per kind of caller, and which routes take which (auth/hooks.ts is what enforces them).
 */
import type { OpenApiOptions } from '@eta/service-kit';
import type { Config } from '../config.ts';

/** A calling service: a shared token from SERVICE_TOKENS, or a service JWT (`role: 'service'`). */
export const SERVICE_BEARER = 'serviceBearer';
/** The caller's identity as the mesh sidecar sets it (TRUST_MESH_IDENTITY_HEADER), where trusted. */
export const MESH_IDENTITY = 'meshIdentity';
/** A store owner's or an operator's JWT (the admin API). */
export const OWNER_BEARER = 'ownerBearer';

export type SecurityRequirements = readonly Readonly<Record<string, readonly string[]>>[];

export function openApiOf(config: Config): OpenApiOptions {
  const mesh = config.TRUST_MESH_IDENTITY_HEADER;
  return {
    title: 'vendor-bff',
    description:
      'Delivery-time estimates for the app services (`/v1/estimates/*`, a service credential) and the ' +
      "store-owner admin API (`/v1/me`, `/v1/stores/*`, an owner's or operator's JWT). Each role " +
      `(ROLE=${config.ROLE}) serves, and documents, only its own routes.`,
    securitySchemes: {
      [SERVICE_BEARER]: {
        type: 'http',
        scheme: 'bearer',
        description:
          "A calling service's credential: its shared token from SERVICE_TOKENS, or a JWT from the trusted " +
          "issuer with `role: 'service'`. Anything else is a 401 UNAUTHENTICATED.",
      },
      [OWNER_BEARER]: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          "A store owner's (`role: 'owner'`, `stores: [ids]`) or an operator's JWT from the trusted issuer. " +
          'Without a valid one 401 UNAUTHENTICATED; a service token is a 403.',
      },
      ...(mesh !== undefined
        ? {
            [MESH_IDENTITY]: {
              type: 'apiKey' as const,
              in: 'header' as const,
              name: mesh,
              description:
                "The caller's identity as the service mesh sets it (trusted, outside traffic has it stripped).",
            },
          }
        : {}),
    },
  };
}

/** The estimate routes: a service bearer credential, or the mesh identity header where it is trusted. */
export function estimateSecurity(config: Config): SecurityRequirements {
  return config.TRUST_MESH_IDENTITY_HEADER !== undefined
    ? [{ [SERVICE_BEARER]: [] }, { [MESH_IDENTITY]: [] }]
    : [{ [SERVICE_BEARER]: [] }];
}

/** The admin API. */
export const ADMIN_SECURITY: SecurityRequirements = [{ [OWNER_BEARER]: [] }];
