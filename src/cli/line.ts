import type { Command } from 'commander';
import type { Champion, LineHistoryEntry, LineScores, LineState } from '../domain/lines';
import type { LineListing } from '../lines';
import { cliConfig, connectClient, personName, UsageError } from './context';

const shortHash = (sha: string | null) => (sha === null ? '–' : sha.slice(0, 12));
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;

export function formatScores(s: LineScores | null): string {
  if (!s) return 'no scores';
  const vs = (label: string, d: LineScores['vsBase']) => (d ? `, vs ${label} ${signed(d.diff)} (95% CI ${signed(d.ci95[0])} to ${signed(d.ci95[1])})` : '');
  return `${s.primaryMetric} ${s.mean.toFixed(3)}${vs('base', s.vsBase)}${vs('champion', s.vsChampion)}`;
}

const runsOf = (state: LineState) => state.history.filter((e) => e.kind === 'run').length;

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)];
}

export function formatLineList(lines: LineListing[]): string {
  if (lines.length === 0) return 'No lines yet. A run with `--line <name>` or `tuneflow line promote <line> <model>` starts one.';
  const rows = lines.map(({ line, state, error }) => {
    if (!state) return [line, `(unknown: ${error ?? 'no answer'})`, '–', '–', '–', '–'];
    const c = state.champion;
    return [line, c?.model ?? '(none)', shortHash(c?.datasetSha256 ?? null), c?.promotedBy ?? '–', c?.promotedAt ?? '–', String(runsOf(state))];
  });
  return table(['line', 'champion', 'trained on', 'promoted by', 'when', 'runs'], rows).join('\n');
}

function championLines(c: Champion, indent: string): string[] {
  return [
    `${indent}trained on: ${c.datasetSha256 ? `dataset sha256 ${c.datasetSha256}` : 'unknown (promoted by hand)'}${c.workflowId ? `, run ${c.workflowId}` : ''}`,
    `${indent}promoted ${c.promotedAt} by ${c.promotedBy}`,
    `${indent}scores: ${formatScores(c.scores)}`,
  ];
}

function historyRow(e: LineHistoryEntry): string[] {
  const what = e.kind === 'run' ? `run ${e.workflowId ?? ''}` : e.kind;
  return [e.at, what, e.outcome, e.model ?? '–', e.decidedBy, e.reason];
}

export function formatLine(state: LineState): string {
  const out = [`Line ${state.line} (since ${state.createdAt}, ${runsOf(state)} run(s) in history)`, ''];
  if (state.champion) out.push(`Champion: ${state.champion.model}`, ...championLines(state.champion, '  '));
  else out.push('Champion: none yet');
  out.push('');
  if (state.previousChampions.length === 0) out.push('Previous champions: none (rollback has nothing to restore)');
  else {
    out.push('Previous champions (newest first; `tuneflow line rollback` restores the first):');
    for (const c of [...state.previousChampions].reverse()) out.push(`  ${c.model}: promoted ${c.promotedAt} by ${c.promotedBy}, trained on ${shortHash(c.datasetSha256)}`);
  }
  out.push('');
  if (state.history.length === 0) out.push('History: empty');
  else {
    out.push('History (newest first):');
    out.push(...table(['when', 'what', 'outcome', 'model', 'decided by', 'reason'], [...state.history].reverse().map(historyRow)).map((l) => `  ${l}`));
  }
  return out.join('\n');
}

/** The line helpers' errors a person fixes from the command line: exit 2 with the message alone. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  const { UnknownLineError, LineRequestRefusedError, InvalidLineNameError } = await import('../lines');
  try {
    return await work();
  } catch (err) {
    if (err instanceof UnknownLineError || err instanceof LineRequestRefusedError || err instanceof InvalidLineNameError) throw new UsageError(err.message);
    throw err;
  }
}

interface ChangeOptions {
  by?: string;
  reason?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const line = program.command('line').description("model lines: each line's champion (the model in production) and its promotion history");

  line
    .command('list')
    .description('every line with its champion, the dataset it was trained on, who promoted it and when')
    .option('--json', 'print the lines as JSON')
    .action(async (o: { json?: boolean }) => {
      const client = await connectClient(await cliConfig());
      const { listLines } = await import('../lines');
      const lines = await listLines(client);
      console.log(o.json ? JSON.stringify(lines, null, 2) : formatLineList(lines));
    });

  line
    .command('show')
    .description("a line's champion with its scores, previous champions and history, newest first")
    .argument('<line>')
    .option('--json', 'print the line as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const client = await connectClient(await cliConfig());
      const { showLine } = await import('../lines');
      const state = await asUsage(() => showLine(client, name));
      console.log(o.json ? JSON.stringify(state, null, 2) : formatLine(state));
    });

  line
    .command('promote')
    .description("make a model the line's champion by hand (creates the line if it does not exist)")
    .argument('<line>')
    .argument('<model>')
    .option('--by <name>', 'who promotes (default: $USER)')
    .option('--reason <text>', 'why, kept in the line history')
    .option('--json', 'print the new champion as JSON')
    .action(async (name: string, model: string, o: ChangeOptions) => {
      const config = await cliConfig();
      const client = await connectClient(config);
      const { promoteModel } = await import('../lines');
      const champion = await asUsage(() => promoteModel(client, { taskQueue: config.temporal.taskQueue, line: name, model, by: o.by ?? personName(), reason: o.reason }));
      console.log(o.json ? JSON.stringify({ line: name, champion }, null, 2) : `Line ${name}: ${champion.model} is the champion (${champion.promotedBy}).`);
    });

  line
    .command('rollback')
    .description('restore the previous champion of a line; refused when it has none')
    .argument('<line>')
    .option('--by <name>', 'who rolls back (default: $USER)')
    .option('--reason <text>', 'why, kept in the line history')
    .option('--json', 'print the restored champion as JSON')
    .action(async (name: string, o: ChangeOptions) => {
      const client = await connectClient(await cliConfig());
      const { rollbackLine } = await import('../lines');
      const champion = await asUsage(() => rollbackLine(client, name, o.by ?? personName(), o.reason));
      console.log(o.json ? JSON.stringify({ line: name, champion }, null, 2) : `Line ${name}: rolled back to ${champion.model} (${champion.promotedBy}).`);
    });
}
