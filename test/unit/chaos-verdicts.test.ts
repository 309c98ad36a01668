// What `npm run chaos` counts as a run that held: its outcome and what the provider holds for it.
import { describe, expect, it } from 'vitest';
import type { ProviderFile, ProviderJob } from '../../bench/chaos/stack';
import { judgeRun, ledgerOf, summarizeProblems } from '../../bench/chaos/verdicts';

const file = (workflowId: string, role: string, n = 0): ProviderFile => ({ id: `file-${workflowId}-${role}-${n}`, filename: `tuneflow-${workflowId}-${role}-${'ab12'.repeat(4)}.jsonl` });
const job = (workflowId: string, status: string, finishedAt: number | null = null): ProviderJob => ({ id: `ftjob-${workflowId}`, status, workflowId, finishedAt });
const twoFiles = (id: string): ProviderFile[] => [file(id, 'train'), file(id, 'valid')];

describe('chaos verdicts', () => {
  it('a completed run with one finished job and one file per role held', () => {
    const v = judgeRun({ id: 'r1', expect: 'completed' }, { status: 'COMPLETED', failure: null }, twoFiles('r1'), [job('r1', 'succeeded')]);
    expect(v).toMatchObject({ held: true, problems: [] });
  });

  it('counts only the files and jobs of that workflow id, not of an id it is a prefix of', () => {
    const files = [...twoFiles('r1'), ...twoFiles('r10'), file('r1', 'train', 1)];
    const mine = ledgerOf('r1', files, [job('r1', 'succeeded'), job('r10', 'running')]);
    expect(mine).toMatchObject({ train: 2, valid: 1 });
    expect(mine.jobs.map((j) => j.workflowId)).toEqual(['r1']);
  });

  it('a duplicate upload, a second job, a failure and a job left running each break a run', () => {
    const files = [...twoFiles('r1'), file('r1', 'train', 1)];
    const v = judgeRun({ id: 'r1', expect: 'completed' }, { status: 'FAILED', failure: 'pollFineTuningJob: Connection error.' }, files, [job('r1', 'running'), job('r1', 'succeeded')]);
    expect(v.held).toBe(false);
    expect(v.problems).toEqual(['FAILED: pollFineTuningJob: Connection error.', '2 jobs', '2 train files', 'job left running']);
  });

  it('a run still open at the deadline did not hold', () => {
    expect(judgeRun({ id: 'r1', expect: 'completed' }, undefined, [], []).problems).toEqual(['still running at the deadline']);
  });

  it('a cancel before the job existed may leave no job and no files, but never a job that trains on', () => {
    const early = { id: 'c1', expect: 'cancelled' as const, cancelledIn: 'creating_job' as const, cancelledAtSimSec: 1000 };
    expect(judgeRun(early, { status: 'CANCELLED', failure: null }, twoFiles('c1'), []).held).toBe(true);
    expect(judgeRun(early, { status: 'CANCELLED', failure: null }, twoFiles('c1'), [job('c1', 'cancelled', 1001)]).held).toBe(true);
    expect(judgeRun(early, { status: 'CANCELLED', failure: null }, twoFiles('c1'), [job('c1', 'running')]).problems).toEqual(['job left running']);
    expect(judgeRun(early, { status: 'CANCELLED', failure: null }, twoFiles('c1'), [job('c1', 'succeeded', 1400)]).problems).toEqual(['job trained to the end after the cancel']);
  });

  it('a cancel after training needs the job, which may have succeeded before the cancel', () => {
    const late = { id: 'c2', expect: 'cancelled' as const, cancelledIn: 'evaluating' as const, cancelledAtSimSec: 1000 };
    expect(judgeRun(late, { status: 'CANCELLED', failure: null }, twoFiles('c2'), [job('c2', 'succeeded', 900)]).held).toBe(true);
    expect(judgeRun(late, { status: 'CANCELLED', failure: null }, twoFiles('c2'), []).problems).toEqual(['0 jobs']);
  });

  it('a cancelled run that completed first is counted apart, and a cancel that failed the run did not hold', () => {
    const plan = { id: 'c3', expect: 'cancelled' as const, cancelledIn: 'reporting' as const, cancelledAtSimSec: 1000 };
    expect(judgeRun(plan, { status: 'COMPLETED', failure: null }, twoFiles('c3'), [job('c3', 'succeeded', 900)])).toMatchObject({ held: true, completedBeforeCancel: true });
    expect(judgeRun(plan, { status: 'FAILED', failure: 'x' }, twoFiles('c3'), [job('c3', 'succeeded', 900)]).problems).toEqual(['FAILED: x']);
  });

  it('sums equal problems of different runs', () => {
    const a = judgeRun({ id: 'a', expect: 'completed' }, undefined, [], []);
    const b = judgeRun({ id: 'b', expect: 'completed' }, undefined, [], []);
    expect(summarizeProblems([a, b])).toBe('2× still running at the deadline');
  });
});
