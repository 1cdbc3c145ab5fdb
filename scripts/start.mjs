// `npm start`: install what is missing, build the UI when stale, then run the controller.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  backendMain,
  ensureAria2,
  ensureBackendBuilt,
  ensureDependencies,
  ensureUiBuilt,
  root,
} from './setup.mjs';

try {
  ensureAria2();
  ensureDependencies();
  ensureUiBuilt();
  ensureBackendBuilt();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

// How Node runs the controller (tests and benchmarks start it the same way): the compiled JavaScript,
// and a small young generation, which keeps the resident memory near what the heap holds.
const nodeArgs = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'controller-node-args.json'), 'utf8'));
// One malloc arena instead of one per thread: the threads' freed memory stays resident otherwise
// (BENCHMARKS.md, "Memory"). A variable already set wins.
const controllerEnv = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'controller-env.json'), 'utf8'));
const child = spawn(process.execPath, [...nodeArgs, backendMain], {
  stdio: 'inherit',
  cwd: root,
  env: { ...controllerEnv, ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
