// The Temporal server and its SQL schema tool, built from the Go module go.temporal.io/server into the user
// cache (found-or-built like the Temporal CLI in src/temporal/cli.ts), with the module's SQL schemas beside them.
import { spawn, spawnSync } from 'node:child_process';
import { access, chmod, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isExecutable, userCacheDir } from '../../src/go-tool';
import { newestInstallable } from './go-mod';

/** The newest release whose go.mod needs no newer Go than go1.26.8 and has no replace or exclude (see `--which-server`). */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
export const SERVER_MODULE = 'go.temporal.io/server';
const PACKAGES = [
  { pkg: 'cmd/server', built: 'server', name: 'temporal-server' },
  { pkg: 'cmd/tools/sql', built: 'sql', name: 'temporal-sql-tool' },
] as const;

export interface TemporalServerParts {
  /** Folder holding temporal-server and temporal-sql-tool (what the admin-tools and server images put on PATH). */
  binDir: string;
  /** The module's schema/ folder (the images' /etc/temporal/schema). */
  schemaDir: string;
  source: 'cache' | 'built';
  /** Seconds the build took, when it was built now. */
  buildSeconds?: number;
}

function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // local: a go.mod asking for a newer Go must fail here, not fetch a toolchain.
  return { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', ...extra };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, capture: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One build at a time on a machine: a lock folder holding the builder's pid; a dead builder's lock is taken over. */
async function withBuildLock<T>(lockDir: string, say: (m: string) => void, body: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockDir), { recursive: true });
  let told = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      const pid = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => '0'));
      if (pid > 0 && !pidAlive(pid)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!told) say(`Another process (pid ${pid || '?'}) is building the Temporal server; waiting for it…`);
      told = true;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

/** The Go module cache's files are read-only; the copy is made writable so it can be replaced later. */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await makeWritable(p);
    else await chmod(p, 0o644);
  }
}

/** Finds the server and SQL tool in the cache, or builds them with `go install` (once; tens of minutes on 2 cores). */
export async function findTemporalServer(opts: { say?: (m: string) => void; build?: boolean } = {}): Promise<TemporalServerParts> {
  const say = opts.say ?? ((m: string) => process.stderr.write(`${m}\n`));
  const cacheDir = path.join(userCacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const parts = { binDir: path.join(cacheDir, 'bin'), schemaDir: path.join(cacheDir, 'schema') };
  const complete = async (): Promise<boolean> =>
    (await Promise.all(PACKAGES.map((p) => isExecutable(path.join(parts.binDir, p.name))))).every(Boolean) &&
    (await access(path.join(parts.schemaDir, 'postgresql/v12/temporal/versioned')).then(
      () => true,
      () => false,
    ));
  if (await complete()) return { ...parts, source: 'cache' };
  if (opts.build === false || spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`No Temporal server in ${cacheDir} and no Go toolchain to build ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`);
  }
  return withBuildLock(`${cacheDir}.lock`, say, async () => {
    if (await complete()) return { ...parts, source: 'cache' as const };
    const started = Date.now();
    const tmpBin = `${cacheDir}.build-${process.pid}`;
    await mkdir(tmpBin, { recursive: true });
    say(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool from ${SERVER_MODULE} (first time only; long on 2 cores)…`);
    const ticker = setInterval(() => say(`  …still building the Temporal server (${Math.round((Date.now() - started) / 1000)} s)`), 60_000);
    try {
      await run('nice', ['-n', '10', 'go', 'install', ...PACKAGES.map((p) => `${SERVER_MODULE}/${p.pkg}@${TEMPORAL_SERVER_VERSION}`)], goEnv({ GOBIN: tmpBin }), false);
      const info = JSON.parse(await run('go', ['mod', 'download', '-json', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], goEnv(), true)) as { Dir?: string };
      if (!info.Dir) throw new Error(`go mod download did not name the folder of ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`);
      await mkdir(parts.binDir, { recursive: true });
      await rm(parts.schemaDir, { recursive: true, force: true });
      await cp(path.join(info.Dir, 'schema'), parts.schemaDir, { recursive: true });
      await makeWritable(parts.schemaDir);
      for (const p of PACKAGES) await rename(path.join(tmpBin, p.built), path.join(parts.binDir, p.name));
      const buildSeconds = Math.round((Date.now() - started) / 1000);
      say(`Built the Temporal server in ${buildSeconds} s: ${parts.binDir}`);
      return { ...parts, source: 'built' as const, buildSeconds };
    } finally {
      clearInterval(ticker);
      await rm(tmpBin, { recursive: true, force: true });
    }
  });
}

/** The proxy's releases of the server module and each one's go.mod verdict for this machine's Go. */
export async function serverReleaseEvidence(): Promise<{ localGo: string; proxy: string; result: ReturnType<typeof newestInstallable> }> {
  const localGo = (await run('go', ['env', 'GOVERSION'], goEnv(), true)).trim();
  const proxy = ((await run('go', ['env', 'GOPROXY'], goEnv(), true)).trim().split(/[,|]/)[0] ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(proxy)) throw new Error(`GOPROXY's first entry is not a proxy URL: '${proxy}'`);
  const list = await (await fetch(`${proxy}/${SERVER_MODULE}/@v/list`)).text();
  const goMods = new Map<string, string>();
  for (const version of list.split('\n').filter(Boolean)) {
    const res = await fetch(`${proxy}/${SERVER_MODULE}/@v/${version}.mod`);
    if (res.ok) goMods.set(version, await res.text());
  }
  return { localGo, proxy, result: newestInstallable(goMods, localGo) };
}
