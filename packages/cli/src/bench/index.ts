import { benchCliStartUp } from './cli-start-up.js';
import { benchDmd } from './dmd.js';
import { benchJobs } from './jobs.js';
import { benchMesh } from './mesh.js';
import { benchPdsRead } from './pds-read.js';

// `npm run bench`: not a test. Prints figures as ratios against a baseline measured in the same run.
// `npm run bench -- dmd` (or `-- pds`, `-- mesh`, `-- jobs`, `-- cli`) runs one section.
const log = (line: string) => process.stdout.write(`${line}\n`);
const sections: Record<string, () => Promise<void>> = {
  pds: () => benchPdsRead(log),
  dmd: () => benchDmd(log),
  mesh: () => benchMesh(log),
  jobs: () => benchJobs(log),
  cli: () => benchCliStartUp(log),
};
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in sections));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown bench section(s) ${unknown.join(', ')}; sections: ${Object.keys(sections).join(', ')}\n`,
  );
  process.exitCode = 1;
} else {
  for (const [name, run] of Object.entries(sections)) {
    if (asked.length > 0 && !asked.includes(name)) continue;
    log(`\n== ${name} ==`);
    await run();
  }
}
