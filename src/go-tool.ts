import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Programs tuneflow builds once from their Go modules (the Temporal CLI, the S3 server) and keeps in the
 * user cache, the way the Temporal CLI keeps its own downloads.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'tuneflow');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'tuneflow');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'tuneflow', 'cache');
  return path.join(os.homedir(), '.cache', 'tuneflow');
}

export function executableName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `exe` on PATH that answers `--version`. */
export function findOnPath(exe: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe);
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

export function hasGo(env: NodeJS.ProcessEnv): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore', env }).status === 0;
}

export interface GoBuild {
  /** `module/path/cmd/x@version`. */
  module: string;
  exe: string;
  /** The cache folder the binary goes to, e.g. `<user cache>/temporal-cli-v1.5.1`. */
  cacheBin: string;
  /** What people read while it builds, e.g. "the Temporal CLI v1.5.1". */
  label: string;
  /** How long it usually takes, for the first message, e.g. "about a minute". */
  expected: string;
  say: (msg: string) => void;
  env: NodeJS.ProcessEnv;
}

/** `go install` into a temporary GOBIN, then a rename: a killed build never leaves a broken binary in the cache. */
export async function goInstallToCache(b: GoBuild): Promise<string> {
  const target = path.join(b.cacheBin, b.exe);
  const tmpBin = `${b.cacheBin}.build-${process.pid}`;
  await mkdir(tmpBin, { recursive: true });
  b.say(`Building ${b.label} from its Go module (first time only; ${b.expected})…`);
  const started = Date.now();
  const ticker = setInterval(() => b.say(`  …still building ${b.label} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', b.module], { env: { ...b.env, CGO_ENABLED: '0', GOBIN: tmpBin }, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${b.module} exited with ${code}`))));
    });
    await mkdir(b.cacheBin, { recursive: true });
    await rename(path.join(tmpBin, b.exe), target);
    b.say(`Built ${b.label} in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return target;
  } finally {
    clearInterval(ticker);
    await rm(tmpBin, { recursive: true, force: true });
  }
}

/** A binary tuneflow finds or builds: where a person may point to it, and which Go module builds it. */
export interface GoToolSpec<E extends string> {
  /** The variable naming the binary (`TEMPORAL_CLI`, `TUNEFLOW_S3_SERVER`). */
  envVar: E;
  /** `module/path/cmd/x@version`. */
  module: string;
  exe: string;
  /** The cache folder's name under the user cache, e.g. `temporal-cli-v1.5.1`. */
  cacheName: string;
  label: string;
  expected: string;
}

/**
 * The binary from `$<envVar>`, then PATH, then the user cache, then a `go install` into the cache (when
 * `build` and Go are there); null when none of them has it.
 */
export async function findGoTool<E extends string>(
  spec: GoToolSpec<E>,
  opts: { env: NodeJS.ProcessEnv; say: (msg: string) => void; build: boolean },
): Promise<{ path: string; source: E | 'PATH' | 'cache' | 'built' } | null> {
  const named = opts.env[spec.envVar];
  if (named) {
    if (await isExecutable(named)) return { path: named, source: spec.envVar };
    throw new Error(`${spec.envVar}=${named} is not an executable file`);
  }
  const fromPath = findOnPath(spec.exe, opts.env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cacheBin = path.join(userCacheDir(opts.env), spec.cacheName);
  const cached = path.join(cacheBin, spec.exe);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (!opts.build || !hasGo(opts.env)) return null;
  return { path: await goInstallToCache({ module: spec.module, exe: spec.exe, cacheBin, label: spec.label, expected: spec.expected, say: opts.say, env: opts.env }), source: 'built' };
}
