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
