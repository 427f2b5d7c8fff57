export { type RunningSandbox, runSandbox, type SandboxCommandOptions } from './commands/sandbox.js';
export { type RunningJunction, type StartOptions, startJunction } from './commands/start.js';
export { CliError, type CliIo } from './io.js';
export { type CliRuntime, runCli } from './program.js';
