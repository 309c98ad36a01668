import type { TestProject } from 'vitest/node';
import { findTemporalCli } from '../src/temporal/cli';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCliPath: string | null;
  }
}

/** Finds (or, the first time on a machine, builds) the Temporal CLI once for the whole run. */
export default async function setup(project: TestProject): Promise<void> {
  const cli = await findTemporalCli({ say: (m) => process.stderr.write(`[tuneflow tests] ${m}\n`) });
  process.stderr.write(`[tuneflow tests] Temporal CLI: ${cli.path ?? 'SDK download'} (${cli.source})\n`);
  project.provide('temporalCliPath', cli.path);
}
