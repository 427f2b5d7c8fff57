import type { IncomingHttpHeaders } from 'node:http';

/** Methods that only read (RFC 9110 §9.2.1 "safe"); anything else can change something. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a browser request carrying the session cookie may be trusted not to be cross-site
 * request forgery. A cookie goes with requests other sites make the browser send (SameSite=Lax
 * still lets top-level POST navigations through older browsers, and same-site sibling origins
 * entirely), so an unsafe method (POST, PUT, PATCH, DELETE) must show it comes from the hub's own
 * pages: `Sec-Fetch-Site: same-origin` (a header only the browser sets, Fetch Metadata) or an
 * `Origin` equal to the hub's public origin. Safe methods pass: they change nothing. Requests
 * with `Authorization` or `X-API-Key` never reach here: a browser never adds those by itself.
 * (OWASP Cross-Site Request Forgery Prevention Cheat Sheet: "Verifying Origin with standard
 * headers" and "Fetch Metadata headers".)
 * @example isSameOriginRequest('POST', { origin: 'https://hub.example' }, 'https://hub.example') // → true
 */
export function isSameOriginRequest(
  method: string,
  headers: IncomingHttpHeaders,
  publicOrigin: string,
): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site.trim().toLowerCase() === 'same-origin') return true;
  const origin = headers.origin;
  return typeof origin === 'string' && origin.trim() !== 'null' && origin.trim() === publicOrigin;
}

/** The origin (`scheme://host[:port]`) of the hub's public URL, as browsers send it in `Origin`. */
export function originOf(publicUrl: string): string {
  return new URL(publicUrl).origin;
}
