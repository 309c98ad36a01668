// Whether a run held, from its outcome and what the provider holds for it. Pure: no I/O.
import { isTerminalJobStatus, STAGES, type Stage } from '../../src/domain/stages';
import type { Closed } from './runs';
import type { ProviderFile, ProviderJob } from './stack';

export interface RunPlan {
  id: string;
  expect: 'completed' | 'cancelled';
  /** For a cancel: the stage the run was in when the cancel was sent (null if never seen). */
  cancelledIn?: Stage | null;
  /** For a cancel: the backend's simulated clock when the cancel was sent. */
  cancelledAtSimSec?: number | null;
  /** For a run still open at the deadline: the stage it was stuck in. */
  stageAtDeadline?: Stage | null;
}

export interface RunVerdict {
  id: string;
  held: boolean;
  /** What did not hold, worded without ids so equal problems of different runs read the same. */
  problems: string[];
  /** A cancelled run that completed because it finished before the cancel landed. */
  completedBeforeCancel: boolean;
}

/** After `tuneflow-<workflow id>-`: the role and content hash (a run id may come first). */
const FILE_TAIL = /^(?:.+-)?(train|valid)-[0-9a-f]{16}\.jsonl$/;

/** The files and jobs that belong to one workflow id: files by their name, jobs by their metadata. */
export function ledgerOf(workflowId: string, files: ProviderFile[], jobs: ProviderJob[]): { train: number; valid: number; jobs: ProviderJob[] } {
  const prefix = `tuneflow-${workflowId}-`;
  let train = 0;
  let valid = 0;
  for (const f of files) {
    if (!f.filename.startsWith(prefix)) continue;
    const role = FILE_TAIL.exec(f.filename.slice(prefix.length))?.[1];
    if (role === 'train') train += 1;
    else if (role === 'valid') valid += 1;
  }
  return { train, valid, jobs: jobs.filter((j) => j.workflowId === workflowId) };
}

const stageIndex = (s: Stage): number => STAGES.indexOf(s);

/**
 * A run held when it ended as expected, the provider created exactly one job and two training files
 * for it (fewer for a cancel before they existed, never more), no job of a closed run is left running,
 * and a cancelled run's job did not go on to finish training after the cancel.
 */
export function judgeRun(plan: RunPlan, closed: Closed | undefined, files: ProviderFile[], jobs: ProviderJob[]): RunVerdict {
  const problems: string[] = [];
  const mine = ledgerOf(plan.id, files, jobs);
  let completedBeforeCancel = false;

  if (!closed) problems.push(`still running at the deadline${plan.stageAtDeadline ? ` (${plan.stageAtDeadline})` : ''}`);
  else if (closed.status === 'COMPLETED') completedBeforeCancel = plan.expect === 'cancelled';
  else if (closed.status !== 'CANCELLED' || plan.expect !== 'cancelled') problems.push(closed.failure ? `${closed.status}: ${closed.failure}` : closed.status);

  // A run that got past a stage must have what that stage makes; a cancel may stop before it.
  const reached = (stage: Stage): boolean =>
    plan.expect === 'completed' || completedBeforeCancel || (plan.cancelledIn != null && stageIndex(plan.cancelledIn) > stageIndex(stage));
  const jobsExpected = reached('creating_job') ? 'one' : 'at most one';
  if (mine.jobs.length > 1 || (jobsExpected === 'one' && mine.jobs.length === 0 && closed)) problems.push(`${mine.jobs.length} jobs`);
  const filesExpected = reached('uploading') ? 1 : null;
  for (const role of ['train', 'valid'] as const) {
    const n = mine[role];
    if (n > 1 || (filesExpected === 1 && n === 0 && closed)) problems.push(`${n} ${role} files`);
  }
  if (closed) for (const j of mine.jobs) if (!isTerminalJobStatus(j.status)) problems.push(`job left ${j.status}`);
  // A cancelled run's job may have succeeded only before the cancel was sent, never trained on after it.
  if (closed?.status === 'CANCELLED') {
    const trainedOn = mine.jobs.filter((j) => j.status === 'succeeded' && (j.finishedAt === null || plan.cancelledAtSimSec == null || j.finishedAt > plan.cancelledAtSimSec));
    if (trainedOn.length > 0) problems.push('job trained to the end after the cancel');
  }

  return { id: plan.id, held: problems.length === 0, problems, completedBeforeCancel };
}

/** "2× FAILED: …; 1× 2 train files": equal problems of different runs counted once. */
export function summarizeProblems(verdicts: RunVerdict[]): string {
  const counts = new Map<string, number>();
  for (const v of verdicts) for (const p of v.problems) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, n]) => `${n}× ${p}`).join('; ');
}
