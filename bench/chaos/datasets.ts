// The datasets of a chaos run: the sample, and a larger one whose validation and split last long enough
// to be cancelled in the middle.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './processes';

const SAMPLE = path.join(REPO_ROOT, 'data/sample/support-conversations.jsonl');

export interface ChaosDatasets {
  dir: string;
  /** The 240-example sample: a whole run in about a minute. */
  small: string;
  /** The sample's conversations repeated, each made unique, to about `largeMb` MB. */
  large: string;
}

export async function writeChaosDatasets(dir: string, largeMb: number): Promise<ChaosDatasets> {
  await mkdir(dir, { recursive: true });
  const small = path.join(dir, 'support.jsonl');
  await copyFile(SAMPLE, small);
  const lines = (await readFile(SAMPLE, 'utf8')).trim().split('\n');
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < largeMb * 1024 * 1024; i++) {
    const example = JSON.parse(lines[i % lines.length] ?? '{}') as { messages: Array<{ role: string; content: unknown }> };
    const user = example.messages.find((m) => m.role === 'user');
    // A case number makes every example distinct, so no duplicate findings and a normal split.
    if (user && typeof user.content === 'string') user.content = `${user.content} (case ${i})`;
    const line = JSON.stringify(example);
    out.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  const large = path.join(dir, 'support-large.jsonl');
  await writeFile(large, `${out.join('\n')}\n`);
  return { dir, small, large };
}
