import { benchPdsRead } from './pds-read.js';

// `npm run bench`: not a test. Prints figures as ratios against a baseline measured in the same run.
await benchPdsRead((line) => process.stdout.write(`${line}\n`));
