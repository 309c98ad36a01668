/**
 * The shell blocks of a markdown file and the `<!-- docs-test: … -->` markers that say how a test runs
 * them (test/docs/readme-commands.test.ts). Pure: text in, blocks out.
 */

export const DOCS_TEST_TAGS = ['schedules', 'lines', 'service', 'webhooks', 'ui'] as const;
export type DocsTestTag = (typeof DOCS_TEST_TAGS)[number];

/** Fence languages that hold commands a person types. */
export const SHELL_LANGUAGES = ['sh', 'bash', 'shell', 'zsh', 'console'] as const;

/** A heading naming one of these (as a word, any case) puts every shell block under it, sub-headings included, under test. */
export const TESTED_HEADING = /\b(schedules?|services?|ui|lines?|webhooks?)\b/i;

export type DocsTestMarker =
  | { kind: 'run'; tag: DocsTestTag; background: boolean; port: number | undefined }
  | { kind: 'skip'; reason: string }
  | { kind: 'invalid'; problem: string };

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The headings the block sits under, outermost first. */
  headings: string[];
  /** The marker on the last non-blank line before the fence, if any. */
  marker: DocsTestMarker | null;
}

export interface ReadmeScan {
  blocks: ShellBlock[];
  /** Markers followed by something other than a shell block: a typo there would leave a block untested. */
  strayMarkers: Array<{ line: number; text: string }>;
}

const MARKER = /^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;

/** `schedules`, `webhooks background`, `webhooks background port=8787`, `skip <reason>`. */
export function parseMarker(text: string): DocsTestMarker {
  const words = text.split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (first === 'skip') {
    const reason = rest.join(' ');
    return reason ? { kind: 'skip', reason } : { kind: 'invalid', problem: 'skip needs a reason: <!-- docs-test: skip <why this block cannot run> -->' };
  }
  if (!first || !(DOCS_TEST_TAGS as readonly string[]).includes(first)) {
    return { kind: 'invalid', problem: `unknown tag ${JSON.stringify(first ?? '')}: one of ${DOCS_TEST_TAGS.join(', ')}, or skip <reason>` };
  }
  let background = false;
  let port: number | undefined;
  for (const word of rest) {
    const portMatch = /^port=(\d{1,5})$/.exec(word);
    if (word === 'background') background = true;
    else if (portMatch) port = Number(portMatch[1]);
    else return { kind: 'invalid', problem: `unknown option ${JSON.stringify(word)}: background or port=<n>` };
  }
  if (port !== undefined && !background) return { kind: 'invalid', problem: 'port=<n> is for background blocks' };
  return { kind: 'run', tag: first as DocsTestTag, background, port };
}

export function scanReadme(markdown: string): ReadmeScan {
  const lines = markdown.split(/\r?\n/);
  const blocks: ShellBlock[] = [];
  const strayMarkers: ReadmeScan['strayMarkers'] = [];
  const headingStack: Array<{ level: number; text: string }> = [];
  let pending: { line: number; text: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      const [, indent = '', ticks = '', info = ''] = fence;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j] ?? '';
        const close = /^\s*(`{3,}|~{3,})\s*$/.exec(l);
        if (close?.[1] && close[1][0] === ticks[0] && close[1].length >= ticks.length) break;
        body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
      }
      const lang = info.toLowerCase();
      if ((SHELL_LANGUAGES as readonly string[]).includes(lang)) {
        blocks.push({ line: i + 1, lang, code: body.join('\n'), headings: headingStack.map((h) => h.text), marker: pending ? parseMarker(pending.text) : null });
      } else if (pending) {
        strayMarkers.push(pending);
      }
      pending = null;
      i = j;
      continue;
    }
    if (line.trim() === '') continue;
    const marker = MARKER.exec(line);
    if (pending) strayMarkers.push(pending);
    pending = marker ? { line: i + 1, text: marker[1] ?? '' } : null;
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      while (headingStack.length > 0 && (headingStack.at(-1)?.level ?? 0) >= level) headingStack.pop();
      headingStack.push({ level, text: heading[2] ?? '' });
    }
  }
  if (pending) strayMarkers.push(pending);
  return { blocks, strayMarkers };
}

/** The rule: a shell block under a heading (at any depth above it) that names schedules, service, UI, lines or webhooks. */
export function mustBeTested(block: Pick<ShellBlock, 'headings'>): boolean {
  return block.headings.some((h) => TESTED_HEADING.test(h));
}

/** The block's first command, for a test name: `tuneflow schedule create nightly --dataset …`. */
export function firstCommand(code: string, max = 70): string {
  const first = code
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  const cmd = (first ?? '(empty block)').replace(/\s*\\$/, '').replace(/\s+#.*$/, '');
  return cmd.length > max ? `${cmd.slice(0, max - 1)}…` : cmd;
}
