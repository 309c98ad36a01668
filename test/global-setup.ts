import type { TestProject } from 'vitest/node';
import { findS3Server } from '../src/dev/s3-server';
import { findTemporalCli } from '../src/temporal/cli';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCliPath: string | null;
    s3ServerPath: string;
  }
}

/** Finds (or, the first time on a machine, builds) the Temporal CLI and the S3 server once for the whole run. */
export default async function setup(project: TestProject): Promise<void> {
  const say = (m: string) => process.stderr.write(`[tuneflow tests] ${m}\n`);
  const cli = await findTemporalCli({ say });
  say(`Temporal CLI: ${cli.path ?? 'SDK download'} (${cli.source})`);
  project.provide('temporalCliPath', cli.path);
  const s3 = await findS3Server({ say });
  say(`S3 server: ${s3.path} (${s3.source})`);
  project.provide('s3ServerPath', s3.path);
}
