// Compiles the controller when a source is newer than the last build (as `npm start` does); the test
// run and the benchmarks call it before they start controller processes.
import { ensureBackendBuilt } from './setup.mjs';

try {
  ensureBackendBuilt({ force: process.argv.includes('--force') });
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
