#!/usr/bin/env node
// The `junction` command. The CLI is TypeScript built into dist/ (`npm run build`); this shim exists
// before the build so that npm can link the command at install time.
import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('junction: not built yet; run `npm run build` in the Junction folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
});
