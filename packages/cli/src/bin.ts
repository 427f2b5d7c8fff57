#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { runCli } from './program.js';

const untilStopped = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

/** One line from stdin (a terminal or a pipe); undefined if stdin ends first. */
async function readLine(prompt: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    return await Promise.race([rl.question(prompt), closed]);
  } finally {
    rl.close();
  }
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  untilStopped,
  readLine,
  stderrIsTTY: process.stderr.isTTY === true,
  columns: process.stderr.columns ?? 80,
  stdin: process.stdin,
  stdoutBytes: process.stdout,
});
process.exitCode = code;
