/** Where a command writes, passed in so commands run the same in a terminal and in tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The process environment, handed to the hub's config loader (the only reader of it). */
  env: NodeJS.ProcessEnv;
}

/** A failure the user caused or can fix: printed as a plain message, exit code 1, no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints a value as indented JSON, the output format of every data-returning command. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
