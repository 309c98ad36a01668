/**
 * Model lines: a named series of runs (`--line support-bot`) that remembers its champion, the model in
 * production, and every decision made about it. The state lives in one entity workflow per line.
 */

/** A line name: lower-case letters, digits and '-', '_' or '.', 1 to 63 characters, starting with a letter or digit. */
export const LINE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The entity workflow that keeps one line's state. */
export const LINE_WORKFLOW_TYPE = 'modelLine';

export function lineWorkflowId(line: string): string {
  return `tuneflow-line-${line}`;
}

/** A line's scores of one model on the run's held-out data (primary metric first). */
export interface LineScores {
  primaryMetric: string;
  /** Mean of the primary metric on the run's evaluation set. */
  mean: number;
  /** Paired difference from the champion it was compared with, and its 95% CI; null when there was none. */
  vsChampion: { diff: number; ci95: [number, number] } | null;
  /** Paired difference from the base model, and its 95% CI. */
  vsBase: { diff: number; ci95: [number, number] } | null;
}

/** The line's model in production. */
export interface Champion {
  model: string;
  /** The dataset hash it was trained on; null for a model promoted by hand that no run of the line trained. */
  datasetSha256: string | null;
  scores: LineScores | null;
  /** The run that trained it (workflow id), or null when promoted by hand. */
  workflowId: string | null;
  promotedAt: string;
  /** Who made it champion: `gate` (the evaluation alone), `person:<name>` (approve or promote), `rollback:<name>`. */
  promotedBy: string;
}

export type LineDecisionOutcome = 'promoted' | 'rejected' | 'skipped';

/** One entry of a line's history: a run's decision, or a promotion or rollback by hand. */
export interface LineHistoryEntry {
  at: string;
  kind: 'run' | 'promote' | 'rollback';
  /** The run's workflow id and first run id; null for entries made by hand. */
  workflowId: string | null;
  runId: string | null;
  /** The model the entry is about (the challenger for a run, the new champion for promote/rollback); null for a skipped run. */
  model: string | null;
  datasetSha256: string | null;
  outcome: LineDecisionOutcome;
  /** `gate`, `timeout`, `person:<name>`. */
  decidedBy: string;
  reason: string;
  scores: LineScores | null;
  /** The champion before this entry, as its model name. */
  previousChampion: string | null;
}

/** What `recordLineRun` sends the line: a run's decision. Idempotent by (workflowId, runId). */
export type LineRunRecord = Omit<LineHistoryEntry, 'kind' | 'previousChampion'> & { workflowId: string; runId: string };

/** The input of the line's entity workflow (`modelLine`). */
export interface ModelLineInput {
  line: string;
  /** The state carried over by continue-as-new; absent for a new line. */
  state?: LineState;
  /** Updates handled before the line continues as new (default 500); tests force it small. */
  maxUpdatesPerRun?: number;
}

/** The entity workflow's signature, for typed starts without importing workflow code. */
export type ModelLineWorkflow = (input: ModelLineInput) => Promise<void>;

/** A line as its entity workflow answers the `lineState` query. */
export interface LineState {
  line: string;
  createdAt: string;
  champion: Champion | null;
  /** Champions before the current one, newest last: `rollback` restores the last. */
  previousChampions: Champion[];
  /** Newest last; the oldest entries are dropped past a bound, so the state stays small across continue-as-new. */
  history: LineHistoryEntry[];
}

/** The history a line keeps: the newest entries, so its state (carried across continue-as-new) stays small. */
export const LINE_HISTORY_LIMIT = 500;
/** Champions `rollback` can go back through. */
export const LINE_PREVIOUS_CHAMPIONS_LIMIT = 50;

/** A request the line's rules refuse; the line's update validators answer with its message, so nothing enters history. */
export class LineRuleError extends Error {
  override name = 'LineRuleError';
}

export interface LineChange {
  state: LineState;
  /** The line's champion after the change. */
  champion: Champion | null;
}

export function emptyLine(line: string, nowIso: string): LineState {
  return { line, createdAt: nowIso, champion: null, previousChampions: [], history: [] };
}

const newest = <T>(items: T[], limit: number): T[] => (items.length > limit ? items.slice(items.length - limit) : items);

/** The champion becomes `next`; the old one goes onto previousChampions unless it is the same model again. */
function crown(state: LineState, next: Champion, entry: LineHistoryEntry): LineChange {
  const old = state.champion;
  const previousChampions = old && old.model !== next.model ? newest([...state.previousChampions, old], LINE_PREVIOUS_CHAMPIONS_LIMIT) : state.previousChampions;
  return { state: { ...state, champion: next, previousChampions, history: newest([...state.history, entry], LINE_HISTORY_LIMIT) }, champion: next };
}

const OUTCOMES: readonly LineDecisionOutcome[] = ['promoted', 'rejected', 'skipped'];
const nonEmpty = (s: unknown): s is string => typeof s === 'string' && s.trim() !== '';

function checkRunRecord(state: LineState, record: LineRunRecord): void {
  if (!nonEmpty(record.workflowId) || !nonEmpty(record.runId)) throw new LineRuleError(`Line ${state.line}: a run record needs the run's workflowId and runId`);
  if (!OUTCOMES.includes(record.outcome)) throw new LineRuleError(`Line ${state.line}: run ${record.workflowId} has outcome ${JSON.stringify(record.outcome)}; expected one of ${OUTCOMES.join(', ')}`);
  if (record.outcome === 'promoted' && !nonEmpty(record.model)) throw new LineRuleError(`Line ${state.line}: run ${record.workflowId} is promoted but names no model`);
  if (!nonEmpty(record.decidedBy)) throw new LineRuleError(`Line ${state.line}: run ${record.workflowId} does not say who decided (decidedBy)`);
}

/**
 * A run's decision. Idempotent by (workflowId, runId): a record already in history changes nothing.
 * `promoted` makes the run's model champion; `rejected` and `skipped` only go into history.
 */
export function applyRunRecord(state: LineState, record: LineRunRecord, nowIso: string): LineChange {
  checkRunRecord(state, record);
  if (state.history.some((e) => e.kind === 'run' && e.workflowId === record.workflowId && e.runId === record.runId)) return { state, champion: state.champion };
  const entry: LineHistoryEntry = {
    at: record.at,
    kind: 'run',
    workflowId: record.workflowId,
    runId: record.runId,
    model: record.model,
    datasetSha256: record.datasetSha256,
    outcome: record.outcome,
    decidedBy: record.decidedBy,
    reason: record.reason,
    scores: record.scores,
    previousChampion: state.champion?.model ?? null,
  };
  if (record.outcome !== 'promoted' || record.model === null) {
    return { state: { ...state, history: newest([...state.history, entry], LINE_HISTORY_LIMIT) }, champion: state.champion };
  }
  const champion: Champion = {
    model: record.model,
    datasetSha256: record.datasetSha256,
    scores: record.scores,
    workflowId: record.workflowId,
    promotedAt: nowIso,
    promotedBy: record.decidedBy,
  };
  return crown(state, champion, entry);
}

/**
 * Makes a model champion by hand (`tuneflow line promote`). What the line knows of the model (dataset
 * hash, scores) comes from the newest history entry about it, and the run that trained it from the
 * newest run entry; a model the line never saw has neither.
 */
export function applyPromote(state: LineState, req: { model: string; by: string; reason?: string | undefined }, nowIso: string): LineChange {
  if (!nonEmpty(req.model)) throw new LineRuleError(`Line ${state.line}: promote needs a model name`);
  if (!nonEmpty(req.by)) throw new LineRuleError(`Line ${state.line}: promote needs to say who promotes (by)`);
  const model = req.model.trim();
  const about = state.history.findLast((e) => e.model === model);
  const trainedBy = state.history.findLast((e) => e.model === model && e.kind === 'run');
  const by = `person:${req.by.trim()}`;
  const champion: Champion = {
    model,
    datasetSha256: about?.datasetSha256 ?? null,
    scores: about?.scores ?? null,
    workflowId: trainedBy?.workflowId ?? null,
    promotedAt: nowIso,
    promotedBy: by,
  };
  return crown(state, champion, {
    at: nowIso,
    kind: 'promote',
    workflowId: null,
    runId: null,
    model,
    datasetSha256: champion.datasetSha256,
    outcome: 'promoted',
    decidedBy: by,
    reason: nonEmpty(req.reason) ? req.reason : 'promoted by hand',
    scores: champion.scores,
    previousChampion: state.champion?.model ?? null,
  });
}

/** Restores the newest previous champion (`tuneflow line rollback`); the champion it replaces is dropped, so rollbacks walk back in order. */
export function applyRollback(state: LineState, req: { by: string; reason?: string | undefined }, nowIso: string): LineChange {
  const restored = state.previousChampions.at(-1);
  if (!restored) {
    const now = state.champion ? `its champion ${state.champion.model} is the first it had` : 'it has no champion yet';
    throw new LineRuleError(`Line ${state.line} has no previous champion to roll back to: ${now}`);
  }
  if (!nonEmpty(req.by)) throw new LineRuleError(`Line ${state.line}: rollback needs to say who rolls back (by)`);
  const by = req.by.trim();
  const champion: Champion = { ...restored, promotedAt: nowIso, promotedBy: `rollback:${by}` };
  const entry: LineHistoryEntry = {
    at: nowIso,
    kind: 'rollback',
    workflowId: null,
    runId: null,
    model: restored.model,
    datasetSha256: restored.datasetSha256,
    outcome: 'promoted',
    decidedBy: `person:${by}`,
    reason: nonEmpty(req.reason) ? req.reason : `rolled back from ${state.champion?.model ?? 'no champion'}`,
    scores: restored.scores,
    previousChampion: state.champion?.model ?? null,
  };
  return {
    state: { ...state, champion, previousChampions: state.previousChampions.slice(0, -1), history: newest([...state.history, entry], LINE_HISTORY_LIMIT) },
    champion,
  };
}
