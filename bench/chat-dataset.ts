// A seeded generator of realistic chat fine-tuning data, shared by the benchmarks.
import { createWriteStream } from 'node:fs';
import { createSeededRandom, type RandomSource } from '../src/domain/random';

const WORDS = (
  'the be to of and a in that have I it for not on with he as you do at this but his by from they we say her she or an will my one all would there their ' +
  'what so up out if about who get which go me when make can like time no just him know take people into year your good some could them see other than then ' +
  'now look only come its over think also back after use two how our work first well way even new want because any these give day most us is are was were ' +
  'order shipping refund account password reset invoice customer support ticket warranty replacement battery screen laptop phone delivery address payment ' +
  'subscription plan upgrade downgrade cancel billing receipt tracking package courier weekend tomorrow yesterday morning evening please thanks sorry ' +
  'unfortunately however because therefore although meanwhile configuration server database deployment error timeout request response latency cache ' +
  'function variable parameter return value string number list dictionary loop condition exception module import install version update release'
).split(' ');
const NAMES = ['Alice', 'Bob', 'Chen', 'Dmitri', 'Emma', 'Fatima', 'Giulia', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Olga', 'Priya'];
const CITIES = ['Berlin', 'Lisbon', 'Osaka', 'Toronto', 'Nairobi', 'Lima', 'Oslo', 'Seoul', 'Austin', 'Lyon'];
const SYSTEM_PROMPTS = [
  'You are a helpful customer support assistant for an online electronics store. Be concise and polite.',
  'You are a senior software engineer who answers programming questions with short, correct code examples.',
  'You are a travel agent. Suggest itineraries and answer questions about bookings.',
  'You are a billing assistant. Explain invoices, refunds and subscription changes clearly.',
];

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function sentence(random: RandomSource): string {
  const n = 6 + Math.floor(random() * 18);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.04) words.push(pick(random, NAMES));
    else if (r < 0.06) words.push(pick(random, CITIES));
    else if (r < 0.09) words.push(String(Math.floor(random() * 100_000)));
    else words.push(pick(random, WORDS));
  }
  const first = words[0] ?? 'ok';
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  return `${words.join(' ')}${pick(random, ['.', '.', '.', '?', '!'])}`;
}

function paragraph(random: RandomSource, sentences: number): string {
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) out.push(sentence(random));
  if (random() < 0.1) out.push(`\n\n\`\`\`python\ndef handle_${pick(random, WORDS)}(value):\n    return value * ${Math.floor(random() * 10)}\n\`\`\``);
  if (random() < 0.01) out.push(`Contact ${pick(random, NAMES).toLowerCase()}.${pick(random, WORDS)}@example.com for details.`);
  if (random() < 0.005) out.push('Call us at (555) 123-4567.');
  return out.join(' ');
}

function example(random: RandomSource): string {
  const messages: unknown[] = [{ role: 'system', content: pick(random, SYSTEM_PROMPTS) }];
  const turns = 1 + Math.floor(random() * 5);
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: paragraph(random, 1 + Math.floor(random() * 4)) });
    if (random() < 0.08) {
      const id = `call_${Math.floor(random() * 1e9).toString(36)}`;
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'lookup_order', arguments: JSON.stringify({ order_id: Math.floor(random() * 1e6) }) } }] });
      messages.push({ role: 'tool', tool_call_id: id, content: JSON.stringify({ status: pick(random, ['shipped', 'pending', 'delivered']), city: pick(random, CITIES) }) });
    }
    messages.push({ role: 'assistant', content: paragraph(random, 2 + Math.floor(random() * 8)) });
  }
  return JSON.stringify({ messages });
}

/**
 * Writes a deterministic, valid chat JSONL of at least `targetBytes`: support, coding, travel and
 * billing conversations of 1-5 turns, some with tool calls, about 1% exact duplicates and a few
 * emails and phone numbers, as real exports have. Returns the number of examples written.
 */
export async function generateChatJsonl(path: string, targetBytes: number, label: string): Promise<number> {
  const random = createSeededRandom(20_240_718, label);
  let examples = 0;
  const out = createWriteStream(path);
  let bytes = 0;
  let previous = '';
  let batch: string[] = [];
  while (bytes < targetBytes) {
    // About 1% exact duplicates, as real exports have.
    const line = previous !== '' && random() < 0.01 ? previous : example(random);
    previous = line;
    batch.push(line);
    examples++;
    bytes += Buffer.byteLength(line) + 1;
    if (batch.length >= 500) {
      if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = [];
    }
  }
  if (batch.length > 0) out.write(`${batch.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return examples;
}

/** 1 MB lines: prose (counting stops at the model's limit) and seeded letters without a space. */
function longLine(random: RandomSource, kind: number): string {
  const target = 1 << 20;
  let content = '';
  if (kind % 2 === 0) {
    const parts: string[] = [];
    let length = 0;
    while (length < target) {
      const p = paragraph(random, 8);
      parts.push(p);
      length += p.length + 1;
    }
    content = parts.join(' ');
  } else {
    const letters = new Array<string>(target);
    for (let i = 0; i < target; i++) letters[i] = String.fromCharCode(97 + Math.floor(random() * 26));
    content = letters.join('');
  }
  return JSON.stringify({ messages: [{ role: 'user', content }, { role: 'assistant', content: 'ok' }] });
}

/** About `targetBytes` of ordinary examples with `longLines` 1 MB lines spread among them. */
export async function generateChatJsonlWithLongLines(path: string, targetBytes: number, longLines: number): Promise<void> {
  const random = createSeededRandom(20_240_718, 'bench:validate:long-lines');
  const out = createWriteStream(path);
  let bytes = 0;
  let written = 0;
  const every = targetBytes / (longLines + 1);
  while (bytes < targetBytes || written < longLines) {
    const line = written < longLines && bytes >= every * (written + 1) ? longLine(random, written++) : example(random);
    bytes += Buffer.byteLength(line) + 1;
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
