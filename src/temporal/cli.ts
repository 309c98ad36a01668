import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** v1.5.1 is the newest CLI release whose go.mod has no `replace` directive, which `go install` requires. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'built' | 'sdk-download';

export interface TemporalCli {
  /** null when only the SDK's own download can provide the server. */
  path: string | null;
  source: TemporalCliSource;
}

export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'tuneflow');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'tuneflow');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'tuneflow', 'cache');
  return path.join(os.homedir(), '.cache', 'tuneflow');
}

const exe = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe);
    const r = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (r.status === 0) return candidate;
  }
  return null;
}

function hasGo(env: NodeJS.ProcessEnv): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore', env }).status === 0;
}

/** Builds the CLI from its Go module into the cache; a temp GOBIN and a rename keep a killed build from leaving a broken binary. */
async function buildFromGoModule(cacheBin: string, say: (msg: string) => void, env: NodeJS.ProcessEnv): Promise<string> {
  const target = path.join(cacheBin, exe);
  const tmpBin = `${cacheBin}.build-${process.pid}`;
  await mkdir(tmpBin, { recursive: true });
  say(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} from its Go module (first time only; this takes several minutes)…`);
  const started = Date.now();
  const ticker = setInterval(() => say(`  …still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', MODULE], {
        env: { ...env, CGO_ENABLED: '0', GOBIN: tmpBin },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${MODULE} exited with ${code}`))));
    });
    await mkdir(cacheBin, { recursive: true });
    await rename(path.join(tmpBin, exe), target);
    say(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return target;
  } finally {
    clearInterval(ticker);
    await rm(tmpBin, { recursive: true, force: true });
  }
}

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
  const fromPath = onPath(env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cacheBin = path.join(userCacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const cached = path.join(cacheBin, exe);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (opts.build !== false && hasGo(env)) {
    return { path: await buildFromGoModule(cacheBin, say, env), source: 'built' };
  }
  say('No Temporal CLI found and no Go toolchain to build one: falling back to the Temporal SDK download (needs internet).');
  return { path: null, source: 'sdk-download' };
}

/** The executable option for TestWorkflowEnvironment.createLocal. */
export function ephemeralExecutable(cli: TemporalCli): { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string } {
  return cli.path ? { type: 'existing-path', path: cli.path } : { type: 'cached-download', downloadDir: userCacheDir() };
}
