/**
 * Memory of an upload (npm run bench:upload): writes a file of about --mb MB, starts the local backend
 * as a separate process, and uploads the file through `uploadFileFromDisk` while sampling this
 * process's RSS. With --buffered, uploads it as the pipeline did before (`toFile(createReadStream())`,
 * which reads the whole file into memory) for comparison. Prints the peak RSS above the baseline.
 *
 *   npm run bench:upload [-- --mb 300 --buffered --backend-mb-per-second 50]
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import OpenAI, { toFile } from 'openai';
import { uploadFileFromDisk } from '../src/provider/upload';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function writeFile(path: string, bytes: number): Promise<void> {
  const line = `${JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(400) }, { role: 'assistant', content: 'y'.repeat(500) }] })}\n`;
  const block = line.repeat(Math.ceil((1 << 20) / line.length));
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function startBackendProcess(stateDir: string, bytesPerSecond: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = ['bin/tuneflow.mjs', 'openai-local', '--port', '0', '--state-dir', stateDir, '--upload-bytes-per-second', String(bytesPerSecond)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TUNEFLOW_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const mb = Number(argValue('--mb') ?? 300);
  const buffered = process.argv.includes('--buffered');
  const dir = await mkdtemp(join(tmpdir(), 'tuneflow-bench-upload-'));
  const file = join(dir, 'train.jsonl');
  try {
    await writeFile(file, mb * 1e6);
    const { size } = await stat(file);
    const backend = await startBackendProcess(join(dir, 'state'), Number(argValue('--backend-mb-per-second') ?? 0) * 1e6);
    try {
      const client = new OpenAI({ apiKey: 'bench', baseURL: backend.url, maxRetries: 0 });
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      let lastProgress = 0;
      const started = performance.now();
      const uploaded = buffered
        ? await client.files.create({ file: await toFile(createReadStream(file), 'train.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' })
        : await uploadFileFromDisk(client, {
            path: file,
            filename: 'train.jsonl',
            purpose: 'fine-tune',
            onProgress: (p) => {
              lastProgress = p.bytesSent;
            },
          });
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const mib = (n: number) => (n / 2 ** 20).toFixed(0);
      console.log(`${buffered ? 'buffered (toFile)' : 'streamed (uploadFileFromDisk)'}: ${(size / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s, stored ${uploaded.bytes} bytes`);
      if (!buffered) console.log(`bytes sent reported: ${lastProgress} of ${size}`);
      console.log(`RSS baseline ${mib(baseline)} MiB, peak ${mib(peak)} MiB, peak above baseline ${mib(peak - baseline)} MiB`);
    } finally {
      await backend.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
