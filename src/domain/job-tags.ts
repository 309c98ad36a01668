/**
 * Metadata tuneflow puts on every provider job it creates: the workflow id, the workflow's first run
 * id, and a fingerprint of what the job is made from (data, model, settings). The provider has no
 * idempotency key; these tags are how a retry, a re-run and the reaper find a run's job.
 */
export const JOB_METADATA_KEYS = { workflowId: 'tuneflow_workflow_id', runId: 'tuneflow_run_id', fingerprint: 'tuneflow_fingerprint' } as const;
