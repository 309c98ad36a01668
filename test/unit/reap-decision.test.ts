import { describe, expect, it } from 'vitest';
import { decideReap, reapCandidate } from '../../src/domain/reap';

const tagged = (status: string, workflowId = 'ft-support') => ({ id: 'ftjob-1', status, metadata: { tuneflow_workflow_id: workflowId, tuneflow_run_id: 'run-1' } });

describe('decideReap', () => {
  it('cancels a live job whose workflow was terminated, failed, cancelled, timed out or completed', () => {
    for (const state of ['TERMINATED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'COMPLETED']) {
      expect(decideReap(tagged('running'), state)).toEqual({ action: 'cancel', reason: `workflow ft-support is closed (${state})` });
    }
  });

  it('cancels a live job whose workflow id Temporal does not know', () => {
    expect(decideReap(tagged('queued'), 'NOT_FOUND')).toEqual({ action: 'cancel', reason: 'workflow ft-support not found in Temporal' });
  });

  it('keeps a job whose workflow id has an open execution, which may follow or adopt it', () => {
    for (const state of ['RUNNING', 'CONTINUED_AS_NEW', 'PAUSED']) expect(decideReap(tagged('running'), state).action).toBe('keep');
  });

  it('treats every non-terminal job status as live, paused included', () => {
    for (const status of ['validating_files', 'queued', 'running', 'paused']) expect(decideReap(tagged(status), 'TERMINATED').action).toBe('cancel');
  });

  it('keeps a job that has already ended, whatever its workflow', () => {
    for (const status of ['succeeded', 'failed', 'cancelled']) {
      expect(decideReap(tagged(status), 'TERMINATED')).toEqual({ action: 'keep', reason: `job already ${status}` });
    }
  });

  it('keeps a job that tuneflow did not tag, even when its metadata has other keys', () => {
    expect(decideReap({ id: 'j', status: 'running', metadata: { team: 'search' } }, 'NOT_FOUND')).toEqual({ action: 'keep', reason: 'not tagged by tuneflow' });
    expect(decideReap({ id: 'j', status: 'running', metadata: null }, 'NOT_FOUND').action).toBe('keep');
    expect(decideReap({ id: 'j', status: 'running' }, 'NOT_FOUND').action).toBe('keep');
  });

  it('keeps the job when Temporal reports a status it cannot place as open or closed', () => {
    expect(decideReap(tagged('running'), 'UNSPECIFIED').action).toBe('keep');
    expect(decideReap(tagged('running'), 'UNKNOWN').reason).toMatch(/unknown state/);
  });
});

describe('reapCandidate', () => {
  it('names the workflow of a live tagged job and skips ended or untagged ones', () => {
    expect(reapCandidate(tagged('running', 'wf-7'))).toBe('wf-7');
    expect(reapCandidate(tagged('succeeded'))).toBeNull();
    expect(reapCandidate({ id: 'j', status: 'running', metadata: { tuneflow_workflow_id: '' } })).toBeNull();
    expect(reapCandidate({ id: 'j', status: 'running', metadata: {} })).toBeNull();
  });
});
