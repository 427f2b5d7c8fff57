/**
 * Just enough of a browser's cookie store (RFC 6265 §5.3–5.4) to walk a sign-in over HTTP: cookies
 * kept per host and path, expired ones dropped, sent back to matching requests. Host-only: the
 * sandbox's providers never set `Domain`.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; host: string; path: string }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Takes the `Set-Cookie` headers of a response to `url`. */
  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url.pathname);
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const v = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (v.startsWith('/')) path = v;
            break;
          case 'max-age':
            if (Number(v) <= 0) expired = true;
            break;
          case 'expires':
            if (Date.parse(v) <= this.nowMs()) expired = true;
            break;
        }
      }
      const key = `${url.hostname} ${path} ${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { value: `${name}=${value}`, host: url.hostname, path });
    }
  }

  /** The `Cookie` header for a request to `url`, if any cookie matches. */
  headerFor(url: URL): string | undefined {
    const sent = [...this.cookies.values()]
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => c.value);
    return sent.length > 0 ? sent.join('; ') : undefined;
  }
}

function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : pathname.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}
