#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step between a clone and a run.
import { register } from 'tsx/esm/api';

// Files the project writes (artifacts, reports, backend state, the Temporal database) are the owner's alone.
process.umask(0o077);
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
