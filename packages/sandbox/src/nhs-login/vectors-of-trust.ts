import type { IdentityProofingLevel } from './test-users.js';

// nhsconnect/nhslogin src/vectors-of-trust.md: "Omission of vtr will result in a default value of
// ["P9.Cp.Cd","P9.Cp.Ck","P9.Cm"] being assumed."
export const DEFAULT_VTR = ['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'] as const;

const LEVELS: Record<string, number> = { P0: 0, P5: 5, P9: 9 };
const COMPONENTS = new Set(['Cp', 'Cd', 'Ck', 'Cm']);

/** The vectors of a `vtr` parameter (a JSON array of strings), or an error message. */
export function parseVtr(raw: unknown): string[] | { error: string } {
  if (raw === undefined || raw === '') return [...DEFAULT_VTR];
  let value: unknown;
  try {
    value = JSON.parse(String(raw));
  } catch {
    return { error: 'vtr must be a JSON array of vectors of trust' };
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    return { error: 'vtr must be a JSON array of vectors of trust' };
  }
  for (const vector of value as string[]) {
    const parts = vector.trim().split('.');
    const levels = parts.filter((p) => p.startsWith('P'));
    if (levels.length > 1 || parts.some((p) => !(p in LEVELS) && !COMPONENTS.has(p))) {
      return { error: `unsupported vector of trust ${JSON.stringify(vector)}` };
    }
  }
  return (value as string[]).map((v) => v.trim());
}

/**
 * The `vot` an account earns against the requested vectors (ORed; components ANDed), or undefined
 * when none is met. A higher proofing level meets a lower one (vectors-of-trust.md, example 3:
 * a P5 request may sign in a P9 user); the vot carries the account's own level.
 */
export function vectorOfTrust(
  level: IdentityProofingLevel,
  credentials: readonly string[],
  vtr: readonly string[],
): string | undefined {
  for (const vector of vtr) {
    const parts = vector.split('.');
    const wanted = parts.find((p) => p in LEVELS) ?? 'P0';
    const components = parts.filter((p) => COMPONENTS.has(p));
    if ((LEVELS[level] ?? 0) < (LEVELS[wanted] ?? 0)) continue;
    if (!components.every((c) => credentials.includes(c))) continue;
    return [level, ...(components.length ? components : credentials)].join('.');
  }
  return undefined;
}
