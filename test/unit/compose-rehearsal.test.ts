import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileFacts, interpolate, localScript, localValue, parseCompose, startOrder, type Placement } from '../../bench/rehearse/compose';
import { partFor, type LocalTools } from '../../bench/rehearse/parts';
import { TEMPORAL_SERVER_VERSION } from '../../bench/rehearse/temporal-server';
import { skipReason, Topology } from '../../bench/rehearse/topology';
import { loadConfig } from '../../src/config';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');
const tools: LocalTools = { serverBinDir: '/opt/temporal/bin', schemaDir: '/opt/temporal/schema', temporalCliDir: '/opt/temporal-cli', versitygw: '/opt/vgw/versitygw' };
const datasets = mkdtempSync(path.join(tmpdir(), 'compose-test-data-'));
// What npm run rehearse hands compose's interpolation.
const vars = { OPENAI_API_KEY: 'tuneflow-local', OPENAI_BASE_URL: 'http://127.0.0.1:8787/v1', TUNEFLOW_DATASETS: datasets, POSTGRES_PASSWORD: 'pw', STORE_SECRET_ACCESS_KEY: 'secret', TUNEFLOW_CODEC_KEYS: `t:${Buffer.alloc(32).toString('base64')}` };

async function planned(): Promise<{ topology: Topology; plans: Map<string, ReturnType<Topology['plan']>> }> {
  const topology = await Topology.load({ composeFile: COMPOSE_FILE, vars, dir: '/rehearsal', tools });
  topology.assignAddresses();
  const plans = new Map(topology.services.map((s) => [s.name, topology.plan(s, 1, topology.addresses.get(s.name) ?? '')]));
  return { topology, plans };
}

describe('docker-compose.yml and npm run rehearse agree', () => {
  it('every service is run by a local part, or is named as left out with a reason', async () => {
    const { topology, plans } = await planned();
    const left = [...topology.project.services.values()].filter((s) => skipReason(s) !== null).map((s) => s.name);
    expect(left).toEqual(['temporal-ui']);
    expect([...plans.keys()].sort()).toEqual(['codec-server', 'postgresql', 'store', 'store-bucket', 'temporal', 'temporal-schema', 'temporal-setup', 'worker']);
  });

  it('each rehearsed program is the service\'s own command with every environment variable the file gives it', async () => {
    const { topology, plans } = await planned();
    for (const [name, { program, placement }] of plans) {
      const service = topology.project.services.get(name);
      for (const key of Object.keys(service?.environment ?? {})) expect(program.env, `${name}.${key}`).toHaveProperty(key);
      const command = service?.command ?? [];
      const local = command.map((a) => (/\s/.test(a) ? localScript(a, placement) : localValue(a, placement)));
      expect(program.argv.slice(program.argv.length - command.length), name).toEqual(local);
    }
    const schema = plans.get('temporal-schema')?.program;
    expect(schema?.argv.slice(0, 2)).toEqual(['sh', '-ec']);
    expect(schema?.argv[2]).toContain('temporal-sql-tool --db $db update-schema -d /opt/temporal/schema/postgresql/v12/$dir/versioned');
    expect(schema?.env.PATH?.split(':').slice(0, 2)).toEqual([tools.serverBinDir, tools.temporalCliDir]);
    expect(plans.get('temporal')?.program.argv).toEqual(['/opt/temporal/bin/temporal-server', 'start']);
    expect(plans.get('worker')?.program.argv.slice(-2)).toEqual([path.join(ROOT, 'bin/tuneflow.mjs'), 'worker']);
  });

  it('services reach each other at the addresses standing in for their containers, never at a fixed host', async () => {
    const { topology, plans } = await planned();
    const at = (s: string): string => topology.addresses.get(s) ?? '';
    expect(plans.get('temporal-schema')?.program.env.SQL_HOST).toBe(at('postgresql'));
    expect(plans.get('temporal')?.program.env).toMatchObject({ POSTGRES_SEEDS: at('postgresql'), BIND_ON_IP: at('temporal'), POSTGRES_USER: 'temporal' });
    expect(plans.get('temporal-setup')?.program.env.TEMPORAL_ADDRESS).toBe(`${at('temporal')}:7233`);
    expect(plans.get('codec-server')?.program.argv.slice(-7)).toEqual(['codec-server', '--host', at('codec-server'), '--port', '8888', '--ui-origin', 'http://localhost:8080']);
    expect(plans.get('store')?.program.argv).toEqual(['/opt/vgw/versitygw', '--port', `${at('store')}:7070`, 'posix', '/rehearsal/volumes/store-data']);
    expect(plans.get('worker')?.program.env).toMatchObject({ AWS_ENDPOINT_URL: `http://${at('store')}:7070`, TUNEFLOW_STORE: 's3://tuneflow/runs' });
    expect(plans.get('store-bucket')?.program.env.AWS_ENDPOINT_URL).toBe(`http://${at('store')}:7070`);
    expect(new Set(topology.addresses.values()).size).toBe(topology.addresses.size);
  });

  it("the worker's environment, read on this machine, is a tuneflow configuration for the temporal service and the datasets volume", async () => {
    const { topology, plans } = await planned();
    const env = plans.get('worker')?.program.env ?? {};
    const config = loadConfig(env);
    expect(config.temporal.address).toBe(`${topology.addresses.get('temporal') ?? ''}:7233`);
    expect(config.dataRoots).toEqual([datasets, 's3://tuneflow/datasets']);
    expect(config.home).toBe('/rehearsal/containers/worker-1/home/node/.tuneflow');
    expect(config.telemetry?.metricsHost).toBe(topology.addresses.get('worker'));
    expect(config.codec?.currentId).toBe('t');
  });

  it('the worker scales: no container name and no host port', () => {
    const worker = parseCompose(composeText, vars, ROOT).services.get('worker');
    expect(worker?.containerName).toBeNull();
    expect(worker?.ports).toEqual([]);
  });

  it('images carry the versions the rehearsal runs; another tag or an image without a part is refused', () => {
    const project = parseCompose(composeText, vars, ROOT);
    const tag = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(project.services.get('temporal')?.image).toBe(`temporalio/server:${tag}`);
    expect(project.services.get('temporal-schema')?.image).toBe(`temporalio/admin-tools:${tag}`);
    const drifted = parseCompose(composeText.replace(`temporalio/server:${tag}`, 'temporalio/server:1.30.4'), vars, ROOT);
    expect(() => partFor(drifted.services.get('temporal') ?? ({} as never))).toThrow("services.temporal: image tag '1.30.4' but the local part is " + tag);
    const unknown = parseCompose(composeText.replace('image: postgres:15', 'image: mysql:8'), vars, ROOT);
    expect(() => partFor(unknown.services.get('postgresql') ?? ({} as never))).toThrow("no local part stands in for image 'mysql:8'");
  });

  it('the worker comes up after the schema, the server and the namespace setup, as depends_on orders them', () => {
    const order = startOrder(parseCompose(composeText, vars, ROOT)).map((s) => s.name);
    expect(order.indexOf('temporal-schema')).toBeGreaterThan(order.indexOf('postgresql'));
    expect(order.indexOf('temporal')).toBeGreaterThan(order.indexOf('temporal-schema'));
    expect(order.indexOf('worker')).toBeGreaterThan(order.indexOf('temporal-setup'));
    expect(order.indexOf('worker')).toBeGreaterThan(order.indexOf('store-bucket'));
  });
});

describe('reading a Compose file', () => {
  it('interpolates as compose does: defaults, required variables, and $$ for a dollar', () => {
    expect(interpolate('${A:-x}/${B-y}/$C/$${D}', { A: '', B: '', C: 'c' })).toBe('x//c/${D}');
    expect(() => interpolate('${KEY:?set KEY}', {}, 'services.worker.environment.KEY')).toThrow('services.worker.environment.KEY: KEY is required: set KEY');
    expect(() => parseCompose(composeText, { ...vars, OPENAI_API_KEY: undefined }, ROOT)).toThrow('OPENAI_API_KEY is required');
  });

  it('moves service hosts in host:port and URLs, bare hosts only in host variables, and container paths to host paths', () => {
    const placement: Placement = { addresses: new Map([['temporal', '127.1.2.3'], ['store', '127.1.2.4']]), self: '127.1.2.9', paths: [['/data', '/host/data']], root: '/c/w-1' };
    expect(localValue('temporal:7233', placement)).toBe('127.1.2.3:7233');
    expect(localValue('http://store:9000/x', placement)).toBe('http://127.1.2.4:9000/x');
    expect(localValue('http://store', placement)).toBe('http://127.1.2.4');
    expect(localValue('temporal', placement, 'POSTGRES_USER')).toBe('temporal');
    expect(localValue('temporal', placement, 'SQL_HOST')).toBe('127.1.2.3');
    expect(localValue('temporal-sql-tool', placement)).toBe('temporal-sql-tool');
    expect(localValue('0.0.0.0', placement)).toBe('127.1.2.9');
    expect(localValue(':7070', placement)).toBe('127.1.2.9:7070');
    expect(localValue('0.0.0.0:8888', placement)).toBe('127.1.2.9:8888');
    expect(localValue('/data/a.jsonl', placement)).toBe('/host/data/a.jsonl');
    expect(localValue('/var/lib/x', placement)).toBe('/c/w-1/var/lib/x');
    expect(localValue('/data:/etc/x:s3://bucket/datasets', placement)).toBe('/host/data:/c/w-1/etc/x:s3://bucket/datasets');
  });

  it("reads the Dockerfile's last stage: exec-form ENTRYPOINT and CMD, WORKDIR, ENV", () => {
    const facts = dockerfileFacts(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    expect(facts).toMatchObject({ entrypoint: ['node', '/app/bin/tuneflow.mjs'], cmd: ['worker'], workdir: '/app', env: { NODE_ENV: 'production', TUNEFLOW_HOME: '/home/node/.tuneflow' } });
    expect(() => dockerfileFacts('FROM x\nENTRYPOINT node app.js\n')).toThrow('ENTRYPOINT must use the exec form');
  });
});
