// docker-compose.yml as the rehearsal reads it: the Compose file's variable interpolation, its services in
// start order, and how a value written for a container reads on this machine. Pure: no I/O.
import path from 'node:path';
import YAML from 'yaml';

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeVolume {
  type: 'bind' | 'volume';
  /** Absolute host path (bind) or the volume's name. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ComposeService {
  name: string;
  /** The image, or null for a service built from a Dockerfile. */
  image: string | null;
  /** Build context (absolute) and Dockerfile (absolute) of a built service. */
  build: { context: string; dockerfile: string } | null;
  command: string[] | null;
  entrypoint: string[] | null;
  environment: Record<string, string>;
  dependsOn: Array<{ service: string; condition: DependsCondition }>;
  healthcheck: { test: string[]; intervalMs: number; retries: number } | null;
  volumes: ComposeVolume[];
  profiles: string[];
  /** One-shot services: compose's restart "no" with a command that ends. */
  restart: string | null;
  containerName: string | null;
  ports: string[];
}

export interface ComposeProject {
  name: string | null;
  services: Map<string, ComposeService>;
  volumes: string[];
}

const VAR = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, and $$ for a literal $. */
export function interpolate(text: string, vars: Record<string, string | undefined>, where = 'docker-compose.yml'): string {
  return text.replace(VAR, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare ?? '';
    const value = vars[name];
    const unsetOrEmpty = value === undefined || value === '';
    switch (op) {
      case ':-':
        return unsetOrEmpty ? interpolate(arg ?? '', vars, where) : value;
      case '-':
        return value === undefined ? interpolate(arg ?? '', vars, where) : value;
      case ':?':
        if (unsetOrEmpty) throw new Error(`${where}: ${name} is required: ${arg ?? ''}`);
        return value;
      case '?':
        if (value === undefined) throw new Error(`${where}: ${name} is required: ${arg ?? ''}`);
        return value;
      default:
        return value ?? '';
    }
  });
}

function interpolateTree(node: unknown, vars: Record<string, string | undefined>, where: string): unknown {
  if (typeof node === 'string') return interpolate(node, vars, where);
  if (Array.isArray(node)) return node.map((n, i) => interpolateTree(n, vars, `${where}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, vars, `${where}.${k}`)]));
  }
  return node;
}

type Raw = Record<string, unknown>;

function asRecord(v: unknown, where: string): Raw {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Raw;
  throw new Error(`${where}: expected a mapping`);
}

function stringList(v: unknown, where: string): string[] | null {
  if (v === undefined || v === null) return null;
  // The list form only: the string form's shell-like splitting is a second grammar to get wrong.
  if (!Array.isArray(v)) throw new Error(`${where}: write it as a list (the rehearsal reads only the list form)`);
  return v.map((x, i) => {
    if (typeof x === 'string' || typeof x === 'number') return String(x);
    throw new Error(`${where}[${i}]: expected a string`);
  });
}

function environment(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (Array.isArray(v)) {
    return Object.fromEntries(
      v.map((x, i) => {
        const s = String(x);
        const eq = s.indexOf('=');
        if (eq < 1) throw new Error(`${where}[${i}]: expected KEY=value`);
        return [s.slice(0, eq), s.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(asRecord(v, where)).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));
}

const DURATION = /^(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/;

function durationMs(v: unknown, fallback: number, where: string): number {
  if (v === undefined) return fallback;
  const m = DURATION.exec(String(v));
  if (!m || String(v) === '') throw new Error(`${where}: not a duration: '${String(v)}'`);
  return Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
}

function dependsOn(v: unknown, where: string): ComposeService['dependsOn'] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((s) => ({ service: String(s), condition: 'service_started' as const }));
  return Object.entries(asRecord(v, where)).map(([service, spec]) => {
    const condition = (asRecord(spec ?? {}, `${where}.${service}`).condition ?? 'service_started') as string;
    if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) throw new Error(`${where}.${service}.condition: unknown '${condition}'`);
    return { service, condition: condition as DependsCondition };
  });
}

function volumes(v: unknown, dir: string, where: string): ComposeVolume[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list`);
  return v.map((x, i) => {
    if (typeof x !== 'string') throw new Error(`${where}[${i}]: write a volume as source:target[:ro]`);
    const [source = '', target = '', mode = 'rw'] = x.split(':');
    if (!target.startsWith('/')) throw new Error(`${where}[${i}]: the target must be an absolute container path`);
    const bind = source.startsWith('.') || source.startsWith('/');
    return { type: bind ? 'bind' : 'volume', source: bind ? path.resolve(dir, source) : source, target, readOnly: mode === 'ro' };
  });
}

/** Reads a Compose file: interpolated with `vars` (the shell's environment and .env, as compose would), services normalized. */
export function parseCompose(text: string, vars: Record<string, string | undefined>, dir: string): ComposeProject {
  const doc = YAML.parse(text, { merge: true }) as unknown;
  const root = asRecord(interpolateTree(doc, vars, 'docker-compose.yml'), 'docker-compose.yml');
  const services = new Map<string, ComposeService>();
  for (const [name, rawService] of Object.entries(asRecord(root.services, 'services'))) {
    const where = `services.${name}`;
    const s = asRecord(rawService, where);
    let build: ComposeService['build'] = null;
    if (s.build !== undefined) {
      const b = typeof s.build === 'string' ? { context: s.build } : asRecord(s.build, `${where}.build`);
      const context = path.resolve(dir, String(b.context ?? '.'));
      build = { context, dockerfile: path.resolve(context, String(b.dockerfile ?? 'Dockerfile')) };
    }
    const hc = s.healthcheck === undefined ? null : asRecord(s.healthcheck, `${where}.healthcheck`);
    services.set(name, {
      name,
      image: typeof s.image === 'string' ? s.image : null,
      build,
      command: stringList(s.command, `${where}.command`),
      entrypoint: stringList(s.entrypoint, `${where}.entrypoint`),
      environment: environment(s.environment, `${where}.environment`),
      dependsOn: dependsOn(s.depends_on, `${where}.depends_on`),
      healthcheck: hc
        ? {
            test: stringList(hc.test, `${where}.healthcheck.test`) ?? [],
            intervalMs: durationMs(hc.interval, 30_000, `${where}.healthcheck.interval`),
            retries: Number(hc.retries ?? 3),
          }
        : null,
      volumes: volumes(s.volumes, dir, `${where}.volumes`),
      profiles: stringList(s.profiles, `${where}.profiles`) ?? [],
      restart: typeof s.restart === 'string' ? s.restart : null,
      containerName: typeof s.container_name === 'string' ? s.container_name : null,
      ports: (stringList(s.ports, `${where}.ports`) ?? []).map(String),
    });
  }
  for (const s of services.values()) {
    for (const d of s.dependsOn) if (!services.has(d.service)) throw new Error(`services.${s.name}.depends_on: no service '${d.service}'`);
    for (const v of s.volumes) if (v.type === 'volume' && !(root.volumes && Object.hasOwn(asRecord(root.volumes, 'volumes'), v.source))) throw new Error(`services.${s.name}.volumes: volume '${v.source}' is not declared under volumes`);
  }
  return { name: typeof root.name === 'string' ? root.name : null, services, volumes: root.volumes ? Object.keys(asRecord(root.volumes, 'volumes')) : [] };
}

/** Services in an order where each comes after everything it depends on (as `docker compose up` starts them). */
export function startOrder(project: ComposeProject, active: (s: ComposeService) => boolean = () => true): ComposeService[] {
  const order: ComposeService[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: ComposeService, chain: string[]): void => {
    if (state.get(s.name) === 'done') return;
    if (state.get(s.name) === 'visiting') throw new Error(`depends_on cycle: ${[...chain, s.name].join(' -> ')}`);
    state.set(s.name, 'visiting');
    for (const d of s.dependsOn) {
      const dep = project.services.get(d.service);
      if (dep) visit(dep, [...chain, s.name]);
    }
    state.set(s.name, 'done');
    order.push(s);
  };
  for (const s of project.services.values()) if (active(s)) visit(s, []);
  return order;
}

/** Where a container's name and paths land on this machine: one loopback address per service, folders for its files. */
export interface Placement {
  /** Service name to the loopback address standing in for its container's. */
  addresses: Map<string, string>;
  /** This container's own address (what 0.0.0.0 means inside it). */
  self: string;
  /** Container path prefixes to host paths: volumes, then the files its image brings; longest prefix wins. */
  paths: Array<[string, string]>;
  /** The container's own file system: any other absolute path lands under it. */
  root: string;
}

/** Variables whose whole value is a host name (elsewhere a service name counts as a host only in host:port or a URL). */
const HOST_VARIABLE = /(?:_HOST|_SEEDS|_HOSTNAME)$/;

export function localPath(p: string, placement: Placement): string {
  const hit = [...placement.paths].sort((a, b) => b[0].length - a[0].length).find(([prefix]) => p === prefix || p.startsWith(`${prefix}/`));
  return hit ? hit[1] + p.slice(hit[0].length) : path.join(placement.root, p);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A value written for the container, as it must read here: service hosts to their addresses, container paths to host paths. */
export function localValue(value: string, placement: Placement, variable?: string): string {
  // Every interface of the container is its one address here.
  const all = /^(?:0\.0\.0\.0)?:(\d+)$/.exec(value);
  if (value === '0.0.0.0') return placement.self;
  if (all) return `${placement.self}:${all[1] ?? ''}`;
  if (variable && HOST_VARIABLE.test(variable) && placement.addresses.has(value)) return placement.addresses.get(value) ?? value;
  let out = value;
  for (const [service, address] of placement.addresses) {
    out = out.replace(new RegExp(`(^|//|@)${escapeRegExp(service)}(?=:\\d)`, 'g'), `$1${address}`);
    out = out.replace(new RegExp(`(//)${escapeRegExp(service)}(?=/|$)`, 'g'), `$1${address}`);
  }
  if (out.startsWith('/')) return pathList(out).map((p) => (p.startsWith('/') ? localPath(p, placement) : p)).join(':');
  return out;
}

/** A `:`-separated list whose entries are paths or URLs ("/data:s3://bucket/prefix"): a scheme keeps its `//`. */
function pathList(value: string): string[] {
  const parts = value.split(':');
  const entries: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const next = parts[i + 1];
    if (/^[a-z][a-z0-9+.-]*$/.test(part) && next?.startsWith('//')) {
      entries.push(`${part}:${next}`);
      i += 1;
    } else entries.push(part);
  }
  return entries;
}

/** A shell script written for the container: only the paths its image and volumes bring are moved. */
export function localScript(script: string, placement: Placement): string {
  let out = script;
  for (const [prefix, host] of [...placement.paths].sort((a, b) => b[0].length - a[0].length)) {
    out = out.replace(new RegExp(`${escapeRegExp(prefix)}(?=/|\\b|$)`, 'g'), host);
  }
  return out;
}

export interface DockerfileFacts {
  entrypoint: string[] | null;
  cmd: string[] | null;
  workdir: string | null;
  env: Record<string, string>;
  /** USER the image runs as (the rehearsal runs as itself). */
  user: string | null;
}

/** The last stage's ENTRYPOINT, CMD (exec form), WORKDIR, ENV and USER: what `docker run` of the image starts. */
export function dockerfileFacts(text: string): DockerfileFacts {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  let facts: DockerfileFacts = { entrypoint: null, cmd: null, workdir: null, env: {}, user: null };
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, instr = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    switch (instr.toUpperCase()) {
      case 'FROM':
        facts = { entrypoint: null, cmd: null, workdir: null, env: {}, user: null };
        break;
      case 'ENTRYPOINT':
      case 'CMD': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(rest);
        } catch {
          throw new Error(`Dockerfile: ${instr} must use the exec form (a JSON list): ${rest}`);
        }
        if (!Array.isArray(parsed)) throw new Error(`Dockerfile: ${instr} must use the exec form (a JSON list): ${rest}`);
        if (instr.toUpperCase() === 'CMD') facts.cmd = parsed.map(String);
        else facts.entrypoint = parsed.map(String);
        break;
      }
      case 'WORKDIR':
        facts.workdir = rest.startsWith('/') ? rest : path.posix.join(facts.workdir ?? '/', rest);
        break;
      case 'USER':
        facts.user = rest;
        break;
      case 'ENV':
        for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
          const v = m[2] ?? '';
          facts.env[m[1] ?? ''] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
        }
        break;
      default:
        break;
    }
  }
  return facts;
}
