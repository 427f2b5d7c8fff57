import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * A clone is the whole project: the NHS specs, examples and sample releases that code and tests
 * read are vendored in reference/, each listed with its origin and SHA-256 in reference/SOURCES.md.
 * Nothing may read a folder beside the repository (where a workspace might keep its own copies):
 * a test passing only there would fail for everyone else.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REFERENCE = join(ROOT, 'reference');

// Ways of pointing outside the repository at a sibling `shared` folder, written so that this file's
// own text does not match them.
const OUTSIDE = [
  /shared[\\/](?:specs|refdata)\b/,
  /\.\.[\\/]shared\b/,
  /[\\/]work[\\/]shared\b/,
  /['"]\.\.['"]\s*,\s*['"]shared['"]/,
];

/** The repository's files (tracked, or new and not ignored), relative to the root, `/`-separated. */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0').filter(Boolean))];
}

/** A file's text, or undefined when it is binary or gone from the working tree. */
function textOf(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(ROOT, file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return bytes.includes(0) ? undefined : bytes.toString('utf8');
}

/** The per-file rows of reference/SOURCES.md: `| \`path\` | \`original\` | bytes | \`sha256\` |`. */
function listedFiles(): Map<string, { bytes: number; sha256: string }> {
  const sources = readFileSync(join(REFERENCE, 'SOURCES.md'), 'utf8');
  const rows = new Map<string, { bytes: number; sha256: string }>();
  for (const [, path, bytes, sha256] of sources.matchAll(
    /^\| `([^`]+)` \| `[^`]+` \| (\d+) \| `([0-9a-f]{64})` \|$/gm,
  )) {
    rows.set(path as string, { bytes: Number(bytes), sha256: sha256 as string });
  }
  return rows;
}

/** The licence texts reference/SOURCES.md names (`LICENSES/...`). */
function listedLicences(): Set<string> {
  const sources = readFileSync(join(REFERENCE, 'SOURCES.md'), 'utf8');
  return new Set([...sources.matchAll(/^\| `(LICENSES\/[^`]+)` \|/gm)].map((m) => m[1] as string));
}

const referenceFiles = () =>
  readdirSync(REFERENCE, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(REFERENCE, join(entry.parentPath, entry.name)).split(sep).join('/'));

describe('the repository needs nothing beside it (reference/SOURCES.md)', () => {
  it('has no file outside reference/ that points at a folder beside the repository', () => {
    const files = repositoryFiles().filter((file) => !file.startsWith('reference/'));
    expect(files).toContain('packages/core/src/reference.test.ts');
    const found: string[] = [];
    for (const file of files) {
      const text = textOf(file);
      if (text === undefined) continue;
      text.split('\n').forEach((line, index) => {
        if (OUTSIDE.some((pattern) => pattern.test(line))) found.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('holds every vendored file SOURCES.md lists, byte for byte (size and SHA-256)', () => {
    const listed = listedFiles();
    expect(listed.size).toBeGreaterThan(0);
    const wrong: string[] = [];
    for (const [path, want] of listed) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(REFERENCE, path));
      } catch {
        wrong.push(`${path}: missing`);
        continue;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== want.bytes || sha256 !== want.sha256) {
        wrong.push(`${path}: ${bytes.length} bytes, sha256 ${sha256}; listed ${want.bytes}, ${want.sha256}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('holds nothing SOURCES.md does not list, and every licence text it names', () => {
    const listed = listedFiles();
    const licences = listedLicences();
    expect(licences.size).toBeGreaterThan(0);
    const present = referenceFiles();
    expect(
      present.filter((file) => file !== 'SOURCES.md' && !listed.has(file) && !licences.has(file)),
    ).toEqual([]);
    expect([...licences].filter((file) => !present.includes(file))).toEqual([]);
  });
});
