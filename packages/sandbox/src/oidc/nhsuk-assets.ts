import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** Below a provider's base path: where its sign-in pages' stylesheet and images are served. */
export const ASSETS_PATH = '/assets';

/** The hashed-by-version names never change content, so browsers may keep them (1 year). */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The NHS.UK frontend files the sign-in pages use, read once from the installed package. */
export interface NhsukAssets {
  /** The stylesheet's file name below `ASSETS_PATH`, e.g. `nhsuk-frontend-10.6.1.min.css`. */
  stylesheet: string;
  css: string;
  /** The icons the stylesheet refers to, by file name (SVG only). */
  images: ReadonlyMap<string, Buffer>;
}

let loading: Promise<NhsukAssets> | undefined;

/**
 * NHS.UK frontend's compiled stylesheet (nhsuk-frontend `dist/nhsuk/nhsuk-frontend.min.css`) as the
 * sandbox serves it: without the Frutiger `@font-face` rules, whose fonts live on assets.nhs.uk (a
 * sandbox must work offline and its pages allow no other origin; the design system falls back to
 * Arial, as the console does), and with the icons it names at `/assets/images/` made relative, so
 * they load from beside the stylesheet wherever a provider is mounted.
 */
export function loadNhsukAssets(): Promise<NhsukAssets> {
  loading ??= (async () => {
    const root = dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json'));
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const dist = join(root, 'dist/nhsuk');
    const css = (await readFile(join(dist, 'nhsuk-frontend.min.css'), 'utf8'))
      .replace(/@font-face\{[^}]*\}/g, '')
      .replace(/url\(\/assets\/images\//g, 'url(images/');
    const images = new Map<string, Buffer>();
    for (const name of await readdir(join(dist, 'assets/images'))) {
      if (name.endsWith('.svg')) images.set(name, await readFile(join(dist, 'assets/images', name)));
    }
    return { stylesheet: `nhsuk-frontend-${version}.min.css`, css, images };
  })();
  return loading;
}

/** Serves the stylesheet and its icons at `<scope prefix>/assets/…`. */
export function registerNhsukAssets(scope: FastifyInstance, assets: NhsukAssets): void {
  scope.get(`${ASSETS_PATH}/${assets.stylesheet}`, async (_request, reply) =>
    reply.header('cache-control', IMMUTABLE).type('text/css; charset=utf-8').send(assets.css),
  );
  scope.get<{ Params: { name: string } }>(`${ASSETS_PATH}/images/:name`, async (request, reply) => {
    const image = assets.images.get(request.params.name);
    if (!image) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(image);
  });
}
