import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
/** Files smaller than this are sent as they are (compression would not pay for its header). */
const PRECOMPRESS_MIN_BYTES = 1024;
const PRECOMPRESSIBLE = /\.(?:js|css|html|svg|json|txt|map)$/;

/**
 * Writes `<file>.br` and `<file>.gz` beside each text asset once the bundle is written, so the hub
 * (@fastify/static `preCompressed`) sends compressed bytes without compressing on every request.
 */
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'junction-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      const walk = async (dir: string): Promise<string[]> => {
        const entries = await readdir(dir, { withFileTypes: true });
        const nested = await Promise.all(
          entries.map((e) =>
            e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
          ),
        );
        return nested.flat();
      };
      for (const file of await walk(outDir)) {
        if (!PRECOMPRESSIBLE.test(file) || (await stat(file)).size < PRECOMPRESS_MIN_BYTES) continue;
        const bytes = await readFile(file);
        await writeFile(
          `${file}.br`,
          await brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
        );
        await writeFile(`${file}.gz`, await gz(bytes, { level: constants.Z_BEST_COMPRESSION }));
      }
    },
  };
}

/** During `npm run dev -w @junction/console`, API calls go to a hub on JUNCTION_HUB (default :8080). */
const hub = process.env.JUNCTION_HUB ?? 'http://127.0.0.1:8080';
const apiPrefixes = [
  '/auth',
  '/operations',
  '/settings',
  '/mesh',
  '/jobs',
  '/api-keys',
  '/audit',
  '/medicines',
  '/fhir',
];

/** nhsuk-frontend's own images (icons its CSS refers to), bundled with hashed names like the rest. */
const nhsukAssets = join(
  dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json')),
  'dist/nhsuk/assets/',
);

export default defineConfig({
  base: '/console/',
  resolve: { alias: [{ find: /^\/nhsuk-assets\//, replacement: nhsukAssets }] },
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No data: URIs from the bundle, so the hub's Content-Security-Policy can stay `'self'`.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  css: {
    preprocessorOptions: {
      scss: { quietDeps: true },
    },
  },
  server: {
    proxy: Object.fromEntries(apiPrefixes.map((p) => [p, { target: hub, changeOrigin: false }])),
  },
});
