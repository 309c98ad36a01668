import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/dataset/', import.meta.url));

/** Path of a file in test/fixtures/dataset. */
export function fixture(relative: string): string {
  return join(FIXTURES, relative);
}

/** A fresh temporary directory and its removal. */
export function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tuneflow-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A valid example whose content depends on i, so examples are distinct. */
export function exampleLine(i: number): string {
  return JSON.stringify({
    messages: [
      { role: 'system', content: 'You answer arithmetic questions tersely.' },
      { role: 'user', content: `What is ${i} plus ${i + 1}?` },
      { role: 'assistant', content: String(2 * i + 1) },
    ],
  });
}

export function exampleLines(count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, k) => exampleLine(from + k));
}
