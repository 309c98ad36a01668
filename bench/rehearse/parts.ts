// What stands in for each image of docker-compose.yml on this machine: the same program, built from its
// module or installed from Debian's packages, given the service's own command and environment.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chown, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findS3Server, VERSITYGW_VERSION } from '../../src/dev/s3-server';
import { findTemporalCli } from '../../src/temporal/cli';
import { REPO_ROOT } from '../chaos/processes';
import { dockerfileFacts, localPath, type ComposeService, type Placement } from './compose';
import { findTemporalServer, TEMPORAL_SERVER_VERSION, type TemporalServerParts } from './temporal-server';

/** Debian's PostgreSQL; docker-compose.yml's postgres image has the same major version. */
export const POSTGRES_MAJOR = '15';
export const POSTGRES_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;

/** Services the rehearsal does not run, and why; every other service must have a part. */
export const NOT_REHEARSED: Record<string, string> = {
  'temporal-ui': 'a browser UI: nothing in the runs depends on it, and its server is not built here',
};

/** Where the images' programs are on this machine (found or built before the rehearsal starts). */
export interface LocalTools {
  /** temporal-server and temporal-sql-tool. */
  serverBinDir: string;
  /** The server module's schema/ folder. */
  schemaDir: string;
  /** The folder of the Temporal CLI (`temporal`). */
  temporalCliDir: string;
  /** The versitygw binary (src/dev/s3-server.ts finds or builds it). */
  versitygw: string;
}

export interface LocalProgram {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Run as this system user (PostgreSQL refuses to run as root). */
  user?: string;
  /** The signal that stops it cleanly (the image's STOPSIGNAL). */
  stopSignal: NodeJS.Signals;
}

export interface LocalPart {
  /** Which images this part stands in for: repository name, and the tag it must carry. */
  image: string;
  tag: string | null;
  /** Container paths the image brings, mapped to where the same files are here. */
  imagePaths(tools: LocalTools): Array<[string, string]>;
  /** Folders put before PATH (the image's binaries). */
  binDirs(tools: LocalTools): string[];
  /** The program the container runs, from the service's command or the image's default. No side effects. */
  program(service: ComposeService, placement: Placement, env: NodeJS.ProcessEnv, tools: LocalTools): LocalProgram;
  /** What the image's entrypoint does before the program on a first start (e.g. initdb). */
  prepare?(service: ComposeService, placement: Placement, program: LocalProgram): Promise<void>;
}

/** "temporalio/server:1.32.1" to its repository and tag. */
export function imageRef(image: string): { repository: string; tag: string | null } {
  const at = image.lastIndexOf(':');
  if (at > image.lastIndexOf('/')) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  return { repository: image, tag: null };
}

const serverTag = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function chownTree(dir: string, user: string): Promise<void> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((l) => l.startsWith(`${user}:`))?.split(':');
  if (!entry) throw new Error(`/etc/passwd: no user '${user}' to run PostgreSQL as (install Debian's postgresql package)`);
  const [uid, gid] = [Number(entry[2]), Number(entry[3])];
  const walk = async (p: string): Promise<void> => {
    await chown(p, uid, gid);
    if ((await stat(p)).isDirectory()) for (const e of await readdir(p)) await walk(path.join(p, e));
  };
  await walk(dir);
}

function runToEnd(argv: string[], env: NodeJS.ProcessEnv, user: string | undefined, logFile: string): Promise<void> {
  const [cmd, args] = user && isRoot() ? ['setpriv', ['--reuid', user, '--regid', user, '--init-groups', ...argv]] : [argv[0] ?? '', argv.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      void writeFile(logFile, out, { flag: 'a' }).finally(() => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with ${code}; see ${logFile}`))));
    });
  });
}

const pgdataOf = (placement: Placement, env: NodeJS.ProcessEnv): string => env.PGDATA ?? localPath('/var/lib/postgresql/data', placement);
const socketsOf = (placement: Placement): string => localPath('/var/run/postgresql', placement);

/** The postgres image's entrypoint: initdb with POSTGRES_USER and POSTGRES_PASSWORD on first start, then postgres. */
const postgres: LocalPart = {
  image: 'postgres',
  tag: POSTGRES_MAJOR,
  imagePaths: () => [],
  binDirs: () => [POSTGRES_BIN],
  program(service, placement, env) {
    const db = env.POSTGRES_DB ?? env.POSTGRES_USER ?? 'postgres';
    if (db !== 'postgres') throw new Error(`services.${service.name}: POSTGRES_DB '${db}' is not created by the rehearsal; keep it 'postgres'`);
    return {
      argv: [`${POSTGRES_BIN}/postgres`, '-D', pgdataOf(placement, env), '-h', placement.self, '-p', '5432', '-k', socketsOf(placement)],
      env,
      cwd: placement.root,
      user: isRoot() ? 'postgres' : undefined,
      stopSignal: 'SIGINT',
    };
  },
  async prepare(_service, placement, program) {
    const { env, user } = program;
    const pgdata = pgdataOf(placement, env);
    const sockets = socketsOf(placement);
    await mkdir(pgdata, { recursive: true, mode: 0o700 });
    await mkdir(sockets, { recursive: true });
    if ((await readdir(pgdata)).length > 0) return;
    const pwfile = path.join(sockets, '.pwfile');
    await writeFile(pwfile, env.POSTGRES_PASSWORD ?? '', { mode: 0o600 });
    if (user) for (const d of [pgdata, placement.root]) await chownTree(d, user);
    try {
      await runToEnd(
        [`${POSTGRES_BIN}/initdb`, '-D', pgdata, '-U', env.POSTGRES_USER ?? 'postgres', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C.UTF-8'],
        env,
        user,
        path.join(placement.root, 'initdb.log'),
      );
    } finally {
      await writeFile(pwfile, '');
    }
  },
};

/** temporalio/admin-tools: temporal-sql-tool and the schemas from the server module, and the Temporal CLI. */
const adminTools: LocalPart = {
  image: 'temporalio/admin-tools',
  tag: serverTag,
  imagePaths: (tools) => [['/etc/temporal/schema', tools.schemaDir]],
  binDirs: (tools) => [tools.serverBinDir, tools.temporalCliDir],
  program(service, placement, env) {
    if (!service.command) throw new Error(`services.${service.name}: admin-tools idles without a command; give it one`);
    return { argv: service.command, env, cwd: localPath('/etc/temporal', placement), stopSignal: 'SIGTERM' };
  },
};

/** temporalio/server: its entrypoint binds to the container's address and starts temporal-server on the embedded config template. */
const temporalServer: LocalPart = {
  image: 'temporalio/server',
  tag: serverTag,
  imagePaths: () => [],
  binDirs: (tools) => [tools.serverBinDir],
  program(service, placement, env, tools) {
    if (service.command) throw new Error(`services.${service.name}: the rehearsal runs the image's entrypoint only; drop the command`);
    return {
      argv: [path.join(tools.serverBinDir, 'temporal-server'), 'start'],
      env: { BIND_ON_IP: placement.self, ...env },
      cwd: localPath('/etc/temporal', placement),
      stopSignal: 'SIGTERM',
    };
  },
};

/** The tuneflow image (Dockerfile): its ENTRYPOINT, WORKDIR and ENV, with the build context where the image has its copy. */
function tuneflowImage(service: ComposeService): LocalPart {
  const dockerfile = service.build?.dockerfile ?? path.join(REPO_ROOT, 'Dockerfile');
  const facts = dockerfileFacts(readFileSync(dockerfile, 'utf8'));
  const context = service.build?.context ?? REPO_ROOT;
  return {
    image: service.image ? imageRef(service.image).repository : 'tuneflow',
    tag: null,
    imagePaths: () => [[facts.workdir ?? '/app', context]],
    binDirs: () => [],
    program(s, placement, env) {
      const entrypoint = (s.entrypoint ?? facts.entrypoint ?? []).map((a) => (a === 'node' ? process.execPath : a.startsWith('/') ? localPath(a, placement) : a));
      const imageEnv = Object.fromEntries(Object.entries(facts.env).map(([k, v]) => [k, v.startsWith('/') ? localPath(v, placement) : v]));
      return { argv: [...entrypoint, ...(s.command ?? facts.cmd ?? [])], env: { ...imageEnv, ...env }, cwd: localPath(facts.workdir ?? '/', placement), stopSignal: 'SIGTERM' };
    },
  };
}

/** versity/versitygw: its entrypoint execs versitygw with the arguments it is given. */
const versitygw: LocalPart = {
  image: 'versity/versitygw',
  tag: VERSITYGW_VERSION,
  imagePaths: () => [],
  binDirs: (tools) => [path.dirname(tools.versitygw)],
  program(service, placement, env, tools) {
    if (!service.command) throw new Error(`services.${service.name}: give versitygw its arguments as the command (the rehearsal does not read the VGW_BACKEND form)`);
    return { argv: [tools.versitygw, ...service.command], env, cwd: placement.root, stopSignal: 'SIGTERM' };
  },
};

const BY_IMAGE: LocalPart[] = [postgres, adminTools, temporalServer, versitygw];

/** The local part for a service, or an error naming the service whose image has none. */
export function partFor(service: ComposeService): LocalPart {
  if (service.build) return tuneflowImage(service);
  const ref = imageRef(service.image ?? '');
  const part = BY_IMAGE.find((p) => p.image === ref.repository);
  if (!part) throw new Error(`services.${service.name}: no local part stands in for image '${service.image ?? '(none)'}'`);
  if (part.tag !== null && ref.tag !== part.tag) throw new Error(`services.${service.name}: image tag '${ref.tag ?? '(none)'}' but the local part is ${part.tag}`);
  return part;
}

/** Finds (or builds) what the parts need: the Temporal server and SQL tool, the Temporal CLI, versitygw. */
export async function findLocalTools(say?: (m: string) => void): Promise<LocalTools & { server: TemporalServerParts }> {
  const server = await findTemporalServer({ say });
  const cli = await findTemporalCli({ say });
  if (!cli.path) throw new Error('admin-tools needs the Temporal CLI; none found or built (see src/temporal/cli.ts)');
  const s3 = await findS3Server({ say });
  return { serverBinDir: server.binDir, schemaDir: server.schemaDir, temporalCliDir: path.dirname(cli.path), versitygw: s3.path, server };
}
