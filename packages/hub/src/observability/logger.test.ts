import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts Authorization and X-API-Key wherever they are logged', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    logger.info(
      { req: { headers: { authorization: 'Bearer jct_secret1', 'x-api-key': 'jct_secret2' } } },
      'a',
    );
    logger.info({ headers: { authorization: 'Bearer jct_secret3', 'x-api-key': 'jct_secret4' } }, 'b');
    const text = lines.join('');
    expect(lines).toHaveLength(2);
    expect(text).not.toMatch(/jct_secret/);
    expect(text).toContain('[redacted]');
  });

  it('redacts cookies and tokens too', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    logger.info({ req: { headers: { cookie: 'junction_session=jss_secret5' } } }, 'c');
    logger.info({ headers: { 'set-cookie': 'junction_session=jss_secret6' }, idToken: 'eyJsecret7' }, 'd');
    logger.info({ sessionToken: 'jss_secret8', accessToken: 'secret9' }, 'e');
    expect(lines.join('')).not.toMatch(/secret/);
  });
});
