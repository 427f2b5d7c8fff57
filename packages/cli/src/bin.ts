#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
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

/** A line typed without echo (a password), on a terminal; elsewhere (a pipe) as readLine. */
async function readSecret(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return readLine(prompt);
  process.stderr.write(prompt);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    return await Promise.race([rl.question(''), closed]);
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  untilStopped,
  readLine,
  readSecret,
  stderrIsTTY: process.stderr.isTTY === true,
  columns: process.stderr.columns ?? 80,
  stdin: process.stdin,
  stdoutBytes: process.stdout,
});
process.exitCode = code;
