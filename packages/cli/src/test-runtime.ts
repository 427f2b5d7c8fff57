import type { CliRuntime } from './program.js';

/** A CLI runtime for tests: captured output, and a stop switch for `start` and `sandbox`. */
export interface TestRuntime extends CliRuntime {
  out: () => string;
  err: () => string;
  stop: () => void;
  /** Resolves with stdout once it contains `text` (long-running commands print, then wait). */
  printed: (text: string) => Promise<string>;
}

/** `input`: the lines a user would type, one per `readLine` (undefined once they run out). */
export function testRuntime(env: NodeJS.ProcessEnv = {}, input?: string[]): TestRuntime {
  const lines = input ? [...input] : undefined;
  let out = '';
  let err = '';
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const waiters: { text: string; resolve: (out: string) => void }[] = [];
  return {
    env,
    stdout: (text) => {
      out += text;
      for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve(out);
    },
    stderr: (text) => {
      err += text;
    },
    untilStopped: () => stopped,
    ...(lines && {
      readLine: async (prompt: string) => {
        err += prompt;
        return lines.shift();
      },
    }),
    out: () => out,
    err: () => err,
    stop: () => stop(),
    printed: (text) =>
      out.includes(text) ? Promise.resolve(out) : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}
