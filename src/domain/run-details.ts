import type { PipelineProgress } from './pipeline';
import type { Stage } from './stages';

/** Durations as people say them: 45 s, 10 min, 2 h 5 min. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function num(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

/** The Temporal UI's name for one job poll: which job, and what the run knew of it when it asked. */
export function pollSummary(jobId: string, status: string | null, step: number | null | undefined): string {
  return `poll ${jobId} (${status ?? 'queued'}${step !== null && step !== undefined ? `, step ${step}` : ''})`;
}

/** The Temporal UI's name for the timer between polls. */
export function pollWaitSummary(seconds: number, webhooks: boolean): string {
  return webhooks ? `wait ${humanDuration(seconds)} or a webhook` : `wait ${humanDuration(seconds)}`;
}

const STAGE_WORDS: Record<Stage, string> = {
  validating: 'Validating the dataset',
  splitting: 'Splitting it into train and validation sets',
  uploading: 'Uploading both files',
  creating_job: 'Creating the fine-tuning job',
  training: 'Training',
  selecting_checkpoint: 'Choosing the checkpoint by validation loss',
  deploying: 'Deploying the models for evaluation',
  evaluating: 'Evaluating base, checkpoints and final side by side',
  cleaning_up: 'Deleting the deployments',
  awaiting_approval: 'Waiting for a person to approve or reject',
  reporting: 'Writing the report',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * The run's current details for the Temporal UI (markdown): the stage in words, the job, step, losses
 * and ETA, the counts, and what a person must do when the run waits for one. Aggregates only.
 */
export function currentDetails(progress: PipelineProgress, nowMs: number, extra: { line?: string | undefined; approvalHint?: string | null } = {}): string {
  // The blank line makes the list a list in the UI's markdown, not words run on after the title.
  const lines: string[] = [`**${STAGE_WORDS[progress.stage]}**${extra.line ? ` · line \`${extra.line}\`` : ''}`, ''];
  const c = progress.counts;
  if (c.examples !== null) lines.push(`- dataset: ${c.examples} examples${c.trainExamples !== null ? ` (${c.trainExamples} train / ${c.validExamples ?? 0} validation)` : ''}`);
  if (progress.jobId) {
    const l = progress.latest;
    const steps = l.step !== null ? `, step ${l.step}${l.totalSteps ? ` of ${l.totalSteps}` : ''}` : '';
    lines.push(`- job: \`${progress.jobId}\` (${progress.jobStatus ?? 'queued'}${steps})`);
    if (l.trainLoss !== null || l.validLoss !== null) lines.push(`- loss: train ${num(l.trainLoss)} · validation ${num(l.validLoss)} · full validation ${num(l.fullValidLoss)}`);
    if (progress.estimatedFinish !== null && !['succeeded', 'failed', 'cancelled'].includes(progress.jobStatus ?? '')) {
      const left = progress.estimatedFinish - nowMs / 1000;
      lines.push(`- ETA: ${new Date(progress.estimatedFinish * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}${left > 0 ? ` (in ${humanDuration(left)})` : ' (overdue)'}`);
    }
    lines.push(`- polls ${c.polls} · events ${c.events} · checkpoints ${c.checkpoints}`);
  }
  if (progress.fineTunedModel) lines.push(`- fine-tuned model: \`${progress.fineTunedModel}\``);
  if (progress.serving) lines.push(`- ${progress.serving.kind}s: ${progress.serving.ready}/${progress.serving.total} ready, ${progress.serving.removed} deleted`);
  if (c.evalExamplesTotal !== null) lines.push(`- evaluation: ${c.evalExamplesDone}/${c.evalExamplesTotal} examples`);
  if (progress.providerUnreachableSince) lines.push(`- provider unreachable since ${progress.providerUnreachableSince}: ${progress.providerError ?? ''}`);
  if (progress.waitingFor) lines.push('', `**Waiting for a person:** ${progress.waitingFor}`);
  if (extra.approvalHint) lines.push('', extra.approvalHint);
  if (progress.error) lines.push('', `**Error:** ${progress.error}`);
  return lines.join('\n');
}
