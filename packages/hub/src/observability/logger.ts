import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/load-config.js';

/**
 * Paths pino blanks out wherever they appear. Credentials first; the request serialiser below never
 * emits bodies or raw URLs, so patient data does not reach the log in the first place.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
  '["x-api-key"]',
  'req.headers.cookie',
  'headers.cookie',
  'cookie',
  'res.headers["set-cookie"]',
  'headers["set-cookie"]',
  '["set-cookie"]',
  'idToken',
  'accessToken',
  'sessionToken',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'junction-hub' },
  };
  return destination ? pino(options, destination) : pino(options);
}
