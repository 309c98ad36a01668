import path from 'node:path';
import { executableName, findOnPath, goInstallToCache, hasGo, isExecutable, userCacheDir } from '../go-tool';

/** v1.5.1 is the newest CLI release whose go.mod has no `replace` directive, which `go install` requires. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'built' | 'sdk-download';

export interface TemporalCli {
  /** null when only the SDK's own download can provide the server. */
  path: string | null;
  source: TemporalCliSource;
}

export { userCacheDir };

const exe = executableName('temporal');

/**
 * Finds the Temporal CLI: $TEMPORAL_CLI, then `temporal` on PATH, then the user cache, then a build from
 * the Go module, and last the SDK's own download (machines with internet).
 */
export async function findTemporalCli(opts: { env?: NodeJS.ProcessEnv; say?: (msg: string) => void; build?: boolean } = {}): Promise<TemporalCli> {
  const env = opts.env ?? process.env;
  const say = opts.say ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  if (env.TEMPORAL_CLI) {
    if (await isExecutable(env.TEMPORAL_CLI)) return { path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI' };
    throw new Error(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
  }
  const fromPath = findOnPath(exe, env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cacheBin = path.join(userCacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const cached = path.join(cacheBin, exe);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (opts.build !== false && hasGo(env)) {
    const label = `the Temporal CLI ${TEMPORAL_CLI_VERSION}`;
    return { path: await goInstallToCache({ module: MODULE, exe, cacheBin, label, expected: 'this takes several minutes', say, env }), source: 'built' };
  }
  say('No Temporal CLI found and no Go toolchain to build one: falling back to the Temporal SDK download (needs internet).');
  return { path: null, source: 'sdk-download' };
}

/** The executable option for TestWorkflowEnvironment.createLocal. */
export function ephemeralExecutable(cli: TemporalCli): { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string } {
  return cli.path ? { type: 'existing-path', path: cli.path } : { type: 'cached-download', downloadDir: userCacheDir() };
}
