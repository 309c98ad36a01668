import { describe, expect, it } from 'vitest';
import { firstCommand, mustBeTested, parseMarker, scanReadme } from '../helpers/readme-blocks';

const doc = [
  '# tuneflow',
  '## Schedules',
  'Text.',
  '',
  '<!-- docs-test: schedules -->',
  '',
  '```sh',
  '# make one',
  'tuneflow schedule create nightly \\',
  '  --cron "0 2 * * *"',
  '```',
  '### Pausing',
  '```bash',
  'tuneflow schedule pause nightly',
  '```',
  '```ts',
  "import { x } from 'tuneflow/client';",
  '```',
  '## Encrypted payloads',
  '```sh',
  'npx tuneflow worker',
  '```',
  '## Webhooks',
  '<!-- docs-test: webhooks background -->',
  '```sh',
  'tuneflow webhooks --port 8787',
  '```',
  '<!-- docs-test: webhook -->',
  '```sh',
  'echo typo',
  '```',
  '<!-- docs-test: webhooks -->',
  'A paragraph, not a block.',
  '',
  '<!-- docs-test: skip -->',
  '```sh',
  'echo no reason',
  '```',
].join('\n');

describe('scanning a README for shell blocks and docs-test markers', () => {
  const scan = scanReadme(doc);

  it('finds sh and bash blocks with their line, headings and the marker on the last non-blank line before them, ignoring other languages', () => {
    expect(scan.blocks.map((b) => [b.line, b.lang, b.headings.join(' > ')])).toEqual([
      [7, 'sh', 'tuneflow > Schedules'],
      [13, 'bash', 'tuneflow > Schedules > Pausing'],
      [20, 'sh', 'tuneflow > Encrypted payloads'],
      [25, 'sh', 'tuneflow > Webhooks'],
      [29, 'sh', 'tuneflow > Webhooks'],
      [36, 'sh', 'tuneflow > Webhooks'],
    ]);
    expect(scan.blocks[0]?.marker).toEqual({ kind: 'run', tag: 'schedules', background: false, port: undefined });
    expect(scan.blocks[0]?.code).toBe('# make one\ntuneflow schedule create nightly \\\n  --cron "0 2 * * *"');
    expect(scan.blocks[1]?.marker).toBeNull();
    expect(scan.blocks[3]?.marker).toEqual({ kind: 'run', tag: 'webhooks', background: true, port: undefined });
  });

  it('puts a block under test when any heading above it names schedules, service, UI, lines or webhooks, and not otherwise', () => {
    expect(scan.blocks.map((b) => mustBeTested(b))).toEqual([true, true, false, true, true, true]);
    expect(mustBeTested({ headings: ['The Temporal UI explains a run'] })).toBe(true);
    expect(mustBeTested({ headings: ['A service other systems call'] })).toBe(true);
    expect(mustBeTested({ headings: ['Model lines and the champion'] })).toBe(true);
    expect(mustBeTested({ headings: ['Pipeline internals', 'Dataset validation', 'Build and guide'] })).toBe(false);
  });

  it('reports an unknown tag, a skip without a reason and a marker that precedes no shell block', () => {
    expect(scan.blocks[4]?.marker).toMatchObject({ kind: 'invalid', problem: expect.stringContaining('unknown tag "webhook"') });
    expect(scan.blocks[5]?.marker).toMatchObject({ kind: 'invalid', problem: expect.stringContaining('skip needs a reason') });
    expect(scan.strayMarkers).toEqual([{ line: 32, text: 'webhooks' }]);
  });

  it('a marker before a ts block is stray: only shell blocks are run', () => {
    expect(scanReadme('## Service\n<!-- docs-test: service -->\n```ts\nx\n```\n').strayMarkers).toEqual([{ line: 2, text: 'service' }]);
  });
});

describe('docs-test markers', () => {
  it('read a tag, background and port=, and refuse a port on a foreground block', () => {
    expect(parseMarker('webhooks background port=8787')).toEqual({ kind: 'run', tag: 'webhooks', background: true, port: 8787 });
    expect(parseMarker('ui')).toEqual({ kind: 'run', tag: 'ui', background: false, port: undefined });
    expect(parseMarker('skip needs an Azure subscription')).toEqual({ kind: 'skip', reason: 'needs an Azure subscription' });
    expect(parseMarker('lines port=1')).toMatchObject({ kind: 'invalid' });
    expect(parseMarker('lines loudly')).toMatchObject({ kind: 'invalid' });
  });
});

describe('the name of a block', () => {
  it('is its first command without comments or a trailing backslash, shortened', () => {
    expect(firstCommand('# comment\n\ntuneflow schedule list   # all of them\n')).toBe('tuneflow schedule list');
    expect(firstCommand('temporal schedule create --schedule-id a \\\n --type b')).toBe('temporal schedule create --schedule-id a');
    expect(firstCommand(`echo ${'x'.repeat(100)}`, 20)).toBe(`echo ${'x'.repeat(14)}…`);
  });
});
