import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsoleStaticOptions {
  /**
   * The console's built bundle (`packages/console/dist`: `index.html` and hashed `assets/`). The
   * hub never imports the console: whoever starts it says where the bundle is. Without it, or
   * before `npm run build` has made it, `/console/` answers a 404 page saying how to build it.
   */
  dir?: string;
}

/** Where the console is served. */
export const CONSOLE_PATH = '/console/';

/**
 * The console's Content-Security-Policy: only its own origin, no inline script or style, no
 * framing. The bundle is built for this (no inline scripts, no data: images, system fonts).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed asset names change with their content, so they may be kept for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed assets: always revalidated (its ETag makes that cheap). */
const REVALIDATE = 'no-cache';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Junction console not built</title></head>
<body>
<main>
<h1>The Junction console has not been built</h1>
<p>This hub serves the console from its built files, and there are none yet.
Run <code>npm run build</code> in the Junction checkout, then start the hub again.</p>
</main>
</body>
</html>
`;

/** A path under /console/ that names a file (an asset), rather than a page of the app. */
function isFileRequest(path: string): boolean {
  return path.startsWith(`${CONSOLE_PATH}assets/`) || /\.[A-Za-z0-9]{1,8}$/.test(path);
}

/**
 * Serves the console's single-page app at `/console/`: hashed assets as immutable, `index.html`
 * revalidated, both precompressed (`.br`/`.gz` written at build time, chosen by Accept-Encoding),
 * and `index.html` again for any other page path so client-side routes survive a reload. Every
 * answer under /console carries the console's CSP. `/console` redirects to `/console/`.
 */
export async function consoleStatic(app: FastifyInstance, options: ConsoleStaticOptions): Promise<void> {
  const dir = options.dir === undefined ? undefined : resolve(options.dir);
  const built = dir !== undefined && existsSync(join(dir, 'index.html'));

  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const q = request.url.indexOf('?');
    return reply.redirect(`${CONSOLE_PATH}${q < 0 ? '' : request.url.slice(q)}`, 301);
  });

  await app.register(
    async (scope) => {
      scope.addHook('onSend', async (_request, reply, payload) => {
        reply.header('content-security-policy', CONSOLE_CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'same-origin');
        return payload;
      });

      if (!built || dir === undefined) {
        const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
          reply
            .code(404)
            .header('cache-control', 'no-store')
            .type('text/html; charset=utf-8')
            .send(NOT_BUILT_PAGE);
        scope.get('/*', { schema: { hide: true } }, notBuilt);
        return;
      }

      const assets = `${join(dir, 'assets')}${sep}`;
      await scope.register(fastifyStatic, {
        root: dir,
        prefix: '/',
        preCompressed: true,
        index: ['index.html'],
        cacheControl: false,
        dotfiles: 'deny',
        // The raw files are listed nowhere: a directory without index.html is not shown.
        list: false,
        schemaHide: true,
        setHeaders: (reply, path) => {
          reply.header('cache-control', path.startsWith(assets) ? IMMUTABLE : REVALIDATE);
        },
      });

      // A path that is no file: a page of the app (index.html), unless it looks like a file.
      scope.setNotFoundHandler(async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if ((request.method !== 'GET' && request.method !== 'HEAD') || isFileRequest(path)) {
          return reply
            .code(404)
            .header('cache-control', 'no-store')
            .type('text/plain; charset=utf-8')
            .send('Not found\n');
        }
        return reply.sendFile('index.html', dir);
      });
    },
    { prefix: '/console' },
  );
}
