import { executableName, findGoTool, userCacheDir } from '../go-tool';

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
  const spec = { envVar: 'TEMPORAL_CLI' as const, module: MODULE, exe, cacheName: `temporal-cli-${TEMPORAL_CLI_VERSION}`, label: `the Temporal CLI ${TEMPORAL_CLI_VERSION}`, expected: 'this takes several minutes' };
  const found = await findGoTool(spec, { env, say, build: opts.build !== false });
  if (found) return { path: found.path, source: found.source };
  say('No Temporal CLI found and no Go toolchain to build one: falling back to the Temporal SDK download (needs internet).');
  return { path: null, source: 'sdk-download' };
}

/** The executable option for TestWorkflowEnvironment.createLocal. */
export function ephemeralExecutable(cli: TemporalCli): { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string } {
  return cli.path ? { type: 'existing-path', path: cli.path } : { type: 'cached-download', downloadDir: userCacheDir() };
}
