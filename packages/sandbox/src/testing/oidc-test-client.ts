// Test helpers (not exported): a relying party driving the sandbox identity providers through
// fastify.inject, with its own cookie jar, PKCE and jose-built private_key_jwt assertions.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface TestRpKey {
  kid: string;
  publicJwk: JWK;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
}

export async function rpKey(kid: string = randomUUID()): Promise<TestRpKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS512', { extractable: true });
  return { kid, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' }, privateKey };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A private_key_jwt client assertion (RFC 7523) as an NHS login / CIS2 client signs it. */
export async function clientAssertion(key: TestRpKey, clientId: string, aud: string): Promise<string> {
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS512', kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A browser for inject: keeps cookies (all paths) and follows nothing by itself. */
export class InjectBrowser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly app: FastifyInstance) {}

  async request(
    method: 'GET' | 'POST',
    url: string,
    form?: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ) {
    const target = new URL(url, 'http://localhost:80');
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await this.app.inject({
      method,
      url: `${target.pathname}${target.search}`,
      headers: {
        ...extraHeaders,
        ...(cookie && { cookie }),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form && { payload: new URLSearchParams(form).toString() }),
    });
    const setCookie = response.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair = ''] = line.split(';', 1);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** The first form action and the `value`s of the radios (or buttons) named `name` on an HTML page. */
export function formOf(html: string, name: string): { action: string; values: string[] } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '';
  const values = [...html.matchAll(/<(?:input|button)\b[^>]*>/g)]
    .filter((m) => m[0].includes(` name="${name}"`) && !m[0].includes('type="hidden"'))
    .map((m) => /\bvalue="([^"]*)"/.exec(m[0])?.[1] ?? '');
  return { action: action.replace(/&amp;/g, '&'), values };
}

/** A radio of a sign-in page as a person reads it: its value, label and hint (tags dropped, `<br>` as ' | '). */
export interface RadioChoice {
  value: string;
  label: string;
  hint: string;
}

/**
 * The errors a sign-in page shows: the error summary's links (each to its field, `#id`) and the
 * fields' own error messages (without their visually hidden "Error: ").
 */
export function errorsOn(html: string): { summary: string[]; inline: string[]; links: string[] } {
  const summary = /<div class="nhsuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  const links = [...summary.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)];
  return {
    summary: links.map((m) => m[2] ?? ''),
    links: links.map((m) => m[1] ?? ''),
    inline: [
      ...html.matchAll(
        /<span class="nhsuk-error-message"[^>]*>\s*<span class="nhsuk-u-visually-hidden">Error: <\/span>([^<]*)/g,
      ),
    ].map((m) => (m[1] ?? '').trim()),
  };
}

/** The radios named `name` on a sign-in page (NHS.UK design system markup), in page order. */
export function radioChoices(html: string, name: string): RadioChoice[] {
  const text = (markup: string) =>
    markup
      .replace(/<br>/g, ' | ')
      .replace(/<[^>]+>/g, '')
      .replace(/\s*\n\s*/g, ' ')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .trim();
  return html
    .split('<div class="nhsuk-radios__item">')
    .slice(1)
    .filter((item) => item.includes(` name="${name}"`))
    .map((item) => ({
      value: /\bvalue="([^"]*)"/.exec(item)?.[1] ?? '',
      label: text(/<label[^>]*>([\s\S]*?)<\/label>/.exec(item)?.[1] ?? ''),
      hint: text(/<div class="nhsuk-hint nhsuk-radios__hint"[^>]*>([\s\S]*?)<\/div>/.exec(item)?.[1] ?? ''),
    }));
}
