/**
 * The built admin web (services/admin-web/dist, a Vite build with base `/admin/`) served at /admin/ by the
 * admin role: same origin as the API, so no CORS exists anywhere. Client-side routes fall back to
 * index.html; hashed assets are cached for a year, index.html never (it names the current hashes).
 * Whether the build exists is checked per request, so building while the server runs works without a restart.
 */
import { stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { ErrorBody } from '@eta/contracts';
import { AppError, type ServiceApp } from '@eta/service-kit';
import { z } from 'zod';

/** services/admin-web/dist seen from this file (a checkout or the image's /app layout). */
export const DEFAULT_ADMIN_WEB_DIR = fileURLToPath(new URL('../../../admin-web/dist', import.meta.url));

export const ADMIN_WEB_PREFIX = '/admin/';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function registerAdminWeb(app: ServiceApp, opts: { readonly dir?: string | undefined }): void {
  const root = normalize(opts.dir ?? DEFAULT_ADMIN_WEB_DIR);
  const notBuilt = () =>
    new AppError(
      503,
      'ADMIN_WEB_NOT_BUILT',
      `the admin web is not built: no index.html in ${root}. Build it with ` +
        '`pnpm --filter admin-web build` (or point ADMIN_WEB_DIR at a build), then reload.',
    );

  void app.register(async (scope) => {
    // No root and serve:false: only reply.sendFile, given the root per call (it refuses paths outside it).
    await scope.register(fastifyStatic, { serve: false });

    scope.get(
      '/admin',
      {
        schema: {
          summary: 'The admin web, at /admin/',
          response: { 308: z.null().describe(`Permanent redirect to ${ADMIN_WEB_PREFIX} (Location).`) },
        },
      },
      async (_request, reply) => reply.redirect(ADMIN_WEB_PREFIX, 308),
    );

    const files = {
      summary: "The admin web's built files; index.html for any client-side route",
      response: {
        200: {
          description:
            'A file of the build (assets cached for a year), or index.html for a client-side route.',
          content: { 'text/html': { schema: z.string() }, '*/*': { schema: z.string() } },
        },
        404: ErrorBody.describe(
          'NOT_FOUND: an asset (a path with a file extension) that is not in the build.',
        ),
        503: ErrorBody.describe(
          'ADMIN_WEB_NOT_BUILT: no build in ADMIN_WEB_DIR; or OVERLOADED / SHUTTING_DOWN.',
        ),
      },
    };
    scope.get(`${ADMIN_WEB_PREFIX}*`, { schema: files }, async (request, reply) => {
      if (!(await isFile(join(root, 'index.html')))) throw notBuilt();
      const rest = (request.params as { '*'?: string })['*'] ?? '';
      const wanted = normalize(rest).replace(/^([/\\]|\.\.[/\\]?)+/, '');
      const file = join(root, wanted);
      const inside = file.startsWith(root.endsWith(sep) ? root : root + sep);
      if (wanted !== '' && wanted !== '.' && inside && (await isFile(file))) {
        const hashed = wanted.startsWith(`assets${sep}`);
        return reply.sendFile(wanted, root, {
          maxAge: hashed ? 365 * 24 * 3_600_000 : 0,
          immutable: hashed,
          dotfiles: 'deny',
        });
      }
      // A missing asset is a 404 (a stale page asking for an old hash must not get HTML as JavaScript);
      // anything else is a client-side route of the single-page app.
      if (/\.[a-z0-9]{1,8}$/i.test(wanted)) {
        throw new AppError(404, 'NOT_FOUND', `no file ${rest} in the admin web build`);
      }
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', root, { cacheControl: false });
    });
  });
}
