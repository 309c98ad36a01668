// docker-compose.yml brought up without Docker: each service's replicas as local processes (the parts in
// parts.ts), each with its own loopback address standing in for its container's, started in depends_on
// order and waited on by the conditions the file names; `down()` stops every process it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../chaos/processes';
import { localScript, localValue, parseCompose, startOrder, type ComposeProject, type ComposeService, type Placement } from './compose';
import { NOT_REHEARSED, partFor, type LocalProgram, type LocalTools } from './parts';

export interface TopologyOptions {
  composeFile: string;
  /** What compose interpolates from: the shell's environment and .env. */
  vars: Record<string, string | undefined>;
  /** Working folder: containers' file systems, volumes, logs. */
  dir: string;
  /** Replicas per service (`--scale`); 1 for any other. */
  scale?: Record<string, number>;
  tools: LocalTools;
  say?: (m: string) => void;
}

interface Replica {
  name: string;
  service: ComposeService;
  placement: Placement;
  program: LocalProgram;
  child: ChildProcess;
  logFile: string;
  exitCode: number | null | undefined;
  exited: Promise<void>;
  stopping: boolean;
}

/** The service's rehearsal verdict: why it is left out, or null when it runs. */
export function skipReason(service: ComposeService): string | null {
  if (service.profiles.length > 0) return `only with profile ${service.profiles.join(', ')}`;
  return NOT_REHEARSED[service.name] ?? null;
}

/** One /24 of the 127/8 loopback block, drawn at random so two rehearsals on one machine do not meet. */
function loopbackBlock(): string {
  return `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}`;
}

/** Listening TCP sockets on the given IPv4 addresses, from /proc/net/tcp ("address:port"). */
export async function listenersOn(addresses: Set<string>): Promise<string[]> {
  const text = await readFile('/proc/net/tcp', 'utf8').catch(() => '');
  const found: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== '0A' || !cols[1]) continue;
    const [hexIp = '', hexPort = ''] = cols[1].split(':');
    const ip = [3, 2, 1, 0].map((i) => parseInt(hexIp.slice(i * 2, i * 2 + 2), 16)).join('.');
    if (addresses.has(ip)) found.push(`${ip}:${parseInt(hexPort, 16)}`);
  }
  return found;
}

export class Topology {
  private readonly replicas = new Map<string, Replica[]>();
  private readonly started: string[] = [];
  private nextHost = 2;
  private readonly block = loopbackBlock();
  /** Service name to the address others reach it at (the first replica's). */
  readonly addresses = new Map<string, string>();
  private readonly say: (m: string) => void;

  private constructor(
    readonly project: ComposeProject,
    private readonly opts: TopologyOptions,
  ) {
    this.say = opts.say ?? (() => undefined);
  }

  static async load(opts: TopologyOptions): Promise<Topology> {
    const text = await readFile(opts.composeFile, 'utf8');
    return new Topology(parseCompose(text, opts.vars, path.dirname(opts.composeFile)), opts);
  }

  /** Services that run, in start order. */
  get services(): ComposeService[] {
    return startOrder(this.project, (s) => skipReason(s) === null);
  }

  private allocate(): string {
    if (this.nextHost > 254) throw new Error('more than 253 replicas');
    return `${this.block}.${this.nextHost++}`;
  }

  /** Every address handed out so far. */
  get allAddresses(): Set<string> {
    return new Set([...this.replicas.values()].flat().map((r) => r.placement.self));
  }

  /** Starts every service, in depends_on order, each once its dependencies meet their conditions. */
  async up(): Promise<void> {
    this.assignAddresses();
    for (const service of this.services) {
      for (const dep of service.dependsOn) await this.waitFor(dep.service, dep.condition);
      await this.scale(service.name, this.opts.scale?.[service.name] ?? 1);
    }
  }

  /** `docker compose up --scale name=n`: starts or stops replicas until n run. */
  async scale(name: string, n: number): Promise<void> {
    const service = this.project.services.get(name);
    if (!service) throw new Error(`no service '${name}'`);
    if (n > 1 && (service.containerName || service.ports.length > 0)) throw new Error(`services.${name}: a fixed container_name or host port keeps it from scaling`);
    const list = this.replicas.get(name) ?? [];
    this.replicas.set(name, list);
    if (!this.started.includes(name)) this.started.push(name);
    while (list.filter((r) => !r.stopping).length < n) list.push(await this.startReplica(service, list.length + 1));
    const extra = list.filter((r) => !r.stopping).slice(n);
    await Promise.all(extra.map((r) => this.stopReplica(r)));
  }

  /** Where a replica's container names and paths land; no side effects. */
  placement(service: ComposeService, index: number, self: string): Placement {
    const paths: Array<[string, string]> = service.volumes.map((v) => [v.target, v.type === 'bind' ? v.source : path.join(this.opts.dir, 'volumes', v.source)]);
    paths.push(...partFor(service).imagePaths(this.opts.tools));
    return { addresses: this.addresses, self, paths, root: path.join(this.opts.dir, 'containers', `${service.name}-${index}`) };
  }

  /** What a replica runs: the part's program for the service's command and environment as they read here; no side effects. */
  plan(service: ComposeService, index: number, self: string): { placement: Placement; program: LocalProgram } {
    const part = partFor(service);
    const placement = this.placement(service, index, self);
    const env: NodeJS.ProcessEnv = {
      // A container starts from its image's environment, not the host's.
      PATH: [...part.binDirs(this.opts.tools), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter),
      HOME: placement.root,
      ...Object.fromEntries(Object.entries(service.environment).map(([k, v]) => [k, localValue(v, placement, k)])),
    };
    const command = service.command?.map((a) => (/\s/.test(a) ? localScript(a, placement) : localValue(a, placement))) ?? null;
    return { placement, program: part.program({ ...service, command }, placement, env, this.opts.tools) };
  }

  /** Addresses for every service that runs, as compose's DNS would name them. */
  assignAddresses(): void {
    for (const s of this.project.services.values()) if (skipReason(s) === null && !this.addresses.has(s.name)) this.addresses.set(s.name, this.allocate());
  }

  private async startReplica(service: ComposeService, index: number): Promise<Replica> {
    const self = index === 1 && this.addresses.has(service.name) ? (this.addresses.get(service.name) ?? '') : this.allocate();
    const { placement, program } = this.plan(service, index, self);
    await mkdir(placement.root, { recursive: true });
    for (const [, host] of placement.paths) if (host.startsWith(path.join(this.opts.dir, 'volumes'))) await mkdir(host, { recursive: true });
    await mkdir(program.cwd, { recursive: true });
    await partFor(service).prepare?.(service, placement, program);
    const logDir = path.join(this.opts.dir, 'logs');
    await mkdir(logDir, { recursive: true });
    const name = `${service.name}-${index}`;
    const logFile = path.join(logDir, `${name}.log`);
    const [cmd, args] = program.user && process.getuid?.() === 0 ? ['setpriv', ['--reuid', program.user, '--regid', program.user, '--init-groups', ...program.argv]] : [program.argv[0] ?? '', program.argv.slice(1)];
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // Its own process group: stopping a replica reaches whatever its shell started.
      child = spawn(cmd, args, { cwd: program.cwd, env: program.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const replica: Replica = { name, service, placement, program, child, logFile, exitCode: undefined, stopping: false, exited: Promise.resolve() };
    replica.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.say(`${name}: ${err.message}`);
        replica.exitCode = null;
        resolve();
      });
      child.once('exit', (code) => {
        replica.exitCode = code;
        if (!replica.stopping && service.restart !== 'no') this.say(`${name} exited with ${code ?? 'a signal'} on its own; see ${logFile}`);
        resolve();
      });
    });
    this.say(`${name} on ${self}: ${program.argv.map((a) => (a.includes('\n') ? '<script>' : a)).join(' ')}`);
    return replica;
  }

  private async stopReplica(r: Replica, graceMs = 15_000): Promise<void> {
    r.stopping = true;
    if (r.exitCode !== undefined || r.child.pid === undefined) return;
    const pid = r.child.pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    signal(r.program.stopSignal);
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await r.exited;
    clearTimeout(timer);
    // Whatever the leader left behind in its group goes too.
    signal('SIGKILL');
  }

  private async healthy(r: Replica): Promise<boolean> {
    const test = r.service.healthcheck?.test ?? [];
    const local = (a: string): string => (a === 'localhost' || a === '127.0.0.1' ? r.placement.self : localValue(a, r.placement));
    let argv: string[];
    if (test[0] === 'CMD') argv = test.slice(1).map(local);
    else if (test[0] === 'CMD-SHELL') argv = ['sh', '-c', (test[1] ?? '').replace(/\blocalhost\b/g, r.placement.self)];
    else throw new Error(`services.${r.service.name}.healthcheck.test: start it with CMD or CMD-SHELL`);
    return new Promise((resolve) => {
      const child = spawn(argv[0] ?? '', argv.slice(1), { env: r.program.env, stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('exit', (code) => resolve(code === 0));
    });
  }

  private async tail(r: Replica): Promise<string> {
    const text = await readFile(r.logFile, 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-15).join('\n');
  }

  /** Waits until the service meets a depends_on condition. */
  async waitFor(name: string, condition: ComposeService['dependsOn'][number]['condition']): Promise<void> {
    const list = this.replicas.get(name) ?? [];
    if (list.length === 0) throw new Error(`${name} has not been started`);
    if (condition === 'service_started') return;
    if (condition === 'service_completed_successfully') {
      for (const r of list) {
        await r.exited;
        if (r.exitCode !== 0) throw new Error(`${r.name} exited with ${r.exitCode ?? 'a signal'}:\n${await this.tail(r)}`);
      }
      this.say(`${name} completed`);
      return;
    }
    for (const r of list) {
      const hc = r.service.healthcheck;
      if (!hc) throw new Error(`services.${name}: depends_on asks for service_healthy but it has no healthcheck`);
      const attempts = Math.max(hc.retries, 30);
      for (let i = 0; ; i++) {
        if (r.exitCode !== undefined) throw new Error(`${r.name} exited before it was healthy:\n${await this.tail(r)}`);
        if (await this.healthy(r)) break;
        if (i >= attempts) throw new Error(`${r.name} not healthy after ${attempts} checks:\n${await this.tail(r)}`);
        await sleep(Math.min(hc.intervalMs, 2000));
      }
    }
    this.say(`${name} healthy`);
  }

  /** The environment the service's first replica was given, as it reads here (the harness starts runs with it). */
  environmentOf(name: string): NodeJS.ProcessEnv {
    const r = this.replicas.get(name)?.[0];
    if (!r) throw new Error(`${name} has not been started`);
    return r.program.env;
  }

  running(name: string): number {
    return (this.replicas.get(name) ?? []).filter((r) => !r.stopping && r.exitCode === undefined).length;
  }

  /** Resolves once every running replica of the service has logged `text`. */
  async waitForLog(name: string, text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const r of (this.replicas.get(name) ?? []).filter((x) => !x.stopping)) {
      for (;;) {
        if (r.exitCode !== undefined) throw new Error(`${r.name} exited before logging "${text}":\n${await this.tail(r)}`);
        if ((await readFile(r.logFile, 'utf8').catch(() => '')).includes(text)) break;
        if (Date.now() > deadline) throw new Error(`${r.name} did not log "${text}" within ${timeoutMs} ms; see ${r.logFile}`);
        await sleep(250);
      }
    }
  }

  /** Replicas that exited when nobody stopped them (one-shot services aside). */
  get unexpectedExits(): string[] {
    return [...this.replicas.values()]
      .flat()
      .filter((r) => !r.stopping && r.service.restart !== 'no' && r.exitCode !== undefined)
      .map((r) => `${r.name} exited with ${r.exitCode ?? 'a signal'}`);
  }

  /** Stops every replica, last started first; safe to call twice. */
  async down(): Promise<void> {
    for (const name of [...this.started].reverse()) await Promise.all((this.replicas.get(name) ?? []).map((r) => this.stopReplica(r)));
  }

  /** Processes of this topology still alive (should be none after down()). */
  get alive(): string[] {
    const alive: string[] = [];
    for (const r of [...this.replicas.values()].flat()) {
      if (r.child.pid === undefined) continue;
      try {
        process.kill(-r.child.pid, 0);
        alive.push(`${r.name} (process group ${r.child.pid})`);
      } catch {
        // gone
      }
    }
    return alive;
  }
}
