import type { FastifyInstance } from 'fastify';
import Negotiator from 'negotiator';
import { CONSOLE_PATH } from './console-static.js';

/** Where a visitor to `/` may go next: the hub's public entry points. */
export const HUB_ENTRY_POINTS = {
  console: CONSOLE_PATH,
  openapi: '/openapi.json',
  docs: '/docs',
  health: '/healthz',
  metrics: '/metrics',
} as const;

/**
 * The same entry points as web links (RFC 8288) with the relations RFC 8631 registers for
 * describing a web API: `service-desc` (the machine-readable description, media type as IANA
 * registered it for OpenAPI), `service-doc` (its human-readable documentation) and `status`.
 * https://www.rfc-editor.org/rfc/rfc8631#section-4
 */
const LINK = [
  `<${HUB_ENTRY_POINTS.openapi}>; rel="service-desc"; type="application/vnd.oai.openapi+json"`,
  `<${HUB_ENTRY_POINTS.docs}>; rel="service-doc"; type="text/html"`,
  `<${HUB_ENTRY_POINTS.health}>; rel="status"; type="application/json"`,
  `<${HUB_ENTRY_POINTS.console}>; rel="alternate"; type="text/html"`,
].join(', ');

/** What `/` can answer, JSON first: a header that rates both alike (any type, or none) gets JSON. */
const ROOT_MEDIA_TYPES = ['application/json', 'text/html'];

/**
 * Whether an `Accept` header (RFC 9110 §12.5.1) asks for a web page before JSON, as negotiated by
 * `negotiator` (the jshttp library behind Express's content negotiation): a browser's (text/html
 * first, any type at q=0.8) does; curl's (any type), an absent header and API clients'
 * `application/json` do not.
 */
export function prefersHtml(accept: string | undefined): boolean {
  return new Negotiator({ headers: { accept } }).mediaType(ROOT_MEDIA_TYPES) === 'text/html';
}

/**
 * `GET /` (and its HEAD twin): a browser is sent to the console with a 303 See Other (RFC 9110
 * §15.4.4: the answer is another resource); anyone else gets a small JSON index of the entry points
 * and the same as `Link` headers, readable at once with `curl` and followable by API tooling,
 * rather than a redirect to an OpenAPI document of hundreds of kilobytes. `Vary: Accept` tells
 * caches the two answers differ. Public: it names only what is public anyway.
 */
export async function rootRoute(app: FastifyInstance, options: { version: string }): Promise<void> {
  const index = { name: 'Junction hub', version: options.version, links: HUB_ENTRY_POINTS };
  app.get(
    '/',
    {
      schema: {
        summary:
          'Where to go: a browser (Accept: text/html) is redirected to the console; others get the entry points as JSON and Link headers (RFC 8631)',
        tags: ['Operations'],
        response: {
          200: {
            type: 'object',
            required: ['name', 'version', 'links'],
            properties: {
              name: { type: 'string' },
              version: { type: 'string' },
              links: {
                type: 'object',
                required: Object.keys(HUB_ENTRY_POINTS),
                properties: Object.fromEntries(
                  Object.keys(HUB_ENTRY_POINTS).map((k) => [k, { type: 'string' }]),
                ),
              },
            },
          },
          303: { description: `A browser: see the console at ${CONSOLE_PATH}`, type: 'null' },
        },
      },
    },
    async (request, reply) => {
      reply.header('vary', 'Accept').header('link', LINK);
      if (prefersHtml(request.headers.accept)) return reply.redirect(CONSOLE_PATH, 303);
      return index;
    },
  );
}
