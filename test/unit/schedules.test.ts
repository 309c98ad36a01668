import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/context';
import { runInputFromOptions } from '../../src/cli/run';
import { loadCodecKeys } from '../../src/codec/keys';
import { durationSeconds, InvalidDurationError, parseDuration } from '../../src/domain/durations';
import { resolvePipelineInput } from '../../src/domain/pipeline';
import { BASE_MODEL_KEY, LINE_KEY, STAGE_KEY } from '../../src/domain/search-attributes';
import { InvalidScheduleRequestError, scheduleOptions, type ScheduleRequest } from '../../src/schedules';
import { formatSeconds, pipelineStartDecoration } from '../../src/starter';
import { describeProblems, temporalCliCommand } from '../../src/temporal/search-attributes';

const config = {
  artifactsDir: '/srv/tuneflow/artifacts',
  temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'tuneflow', uiUrl: 'http://127.0.0.1:8233' },
};
const encrypted = { ...config, codec: loadCodecKeys({ keys: `k1:${Buffer.alloc(32, 7).toString('base64')}` }) };
const input = resolvePipelineInput({ datasetPath: '/data/support-conversations.jsonl', model: 'gpt-4o-mini', line: 'support-bot' });

describe('durations a person types', () => {
  it('reads 90s, 10m, 12h, 7d and "2 hours" as milliseconds', () => {
    expect(parseDuration('--jitter', '90s')).toBe(90_000);
    expect(parseDuration('--jitter', '10m')).toBe(600_000);
    expect(parseDuration('--jitter', '12h')).toBe(43_200_000);
    expect(parseDuration('--jitter', '7d')).toBe(604_800_000);
    expect(parseDuration('--jitter', '2 hours')).toBe(7_200_000);
  });

  it('refuses a bare number, nonsense and a negative duration, naming the flag', () => {
    expect(() => parseDuration('--jitter', '300')).toThrow(/--jitter "300" needs a unit, e\.g\. 300s/);
    expect(() => parseDuration('--catchup-window', 'soon')).toThrow(InvalidDurationError);
    expect(() => parseDuration('--catchup-window', 'soon')).toThrow(/--catchup-window "soon" is not a duration/);
    expect(() => parseDuration('--jitter', '-5m')).toThrow(/zero or more/);
  });

  it('rounds a timeout up to whole seconds, never ending it early', () => {
    expect(durationSeconds('--approval-timeout', '1500ms')).toBe(2);
    expect(durationSeconds('--approval-timeout', '2d')).toBe(172_800);
  });

  it('writes seconds in the largest unit that divides them', () => {
    expect(formatSeconds(7 * 86_400)).toBe('7 d');
    expect(formatSeconds(36 * 3600)).toBe('36 h');
    expect(formatSeconds(90 * 60)).toBe('90 min');
    expect(formatSeconds(45)).toBe('45 s');
  });
});

describe('how a run is decorated for the Temporal UI', () => {
  it('tags the stage, base model and line, and says in one line what the run trains', () => {
    const d = pipelineStartDecoration(input, config, 'ft-support-1');
    expect(d.typedSearchAttributes).toEqual([
      { key: STAGE_KEY, value: 'validating' },
      { key: BASE_MODEL_KEY, value: 'gpt-4o-mini' },
      { key: LINE_KEY, value: 'support-bot' },
    ]);
    expect(d.staticSummary).toBe('fine-tune gpt-4o-mini on support-conversations.jsonl · line support-bot');
    expect(d.staticSummary).not.toContain('\n');
    expect(d.memo).toEqual({
      tuneflow: { version: expect.stringMatching(/^\d+\.\d+\.\d+/), dataset: '/data/support-conversations.jsonl', model: 'gpt-4o-mini', line: 'support-bot', reportCommand: 'tuneflow report ft-support-1' },
    });
  });

  it('leaves the line out of the attributes and the summary of a run that has none', () => {
    const d = pipelineStartDecoration(resolvePipelineInput({ datasetPath: '/d/x.jsonl', model: 'm' }), config, 'id');
    expect(d.typedSearchAttributes.map((p) => p.key.name)).toEqual(['TuneflowStage', 'TuneflowBaseModel']);
    expect(d.staticSummary).toBe('fine-tune m on x.jsonl');
    expect(d.memo.tuneflow.line).toBeNull();
  });

  it('details the dataset, split, hyperparameters, budget, line, approval, cost, report and how to watch', () => {
    const withAll = resolvePipelineInput({
      ...input,
      seed: 7,
      validRatio: 0.25,
      hyperparameters: { n_epochs: 3 },
      budgetUsd: 5,
      approval: 'required',
      approvalTimeoutSeconds: 2 * 86_400,
      eval: { minImprovement: 0.02 },
    });
    const details = pipelineStartDecoration(withAll, config, 'ft-support-1').staticDetails;
    expect(details).toContain('`/data/support-conversations.jsonl`');
    expect(details).toContain('25% held out for validation, seed 7');
    expect(details).toContain('`n_epochs` 3');
    expect(details).toContain('$5.00');
    expect(details).toContain("beats the line's champion by at least 0.02");
    expect(details).toContain('`tuneflow approve ft-support-1`');
    expect(details).toContain('rejects by itself after 2 d');
    expect(details).toMatch(/Cost:.*estimated.*validat/);
    expect(details).toContain('`tuneflow report ft-support-1`');
    expect(details).toContain('/srv/tuneflow/artifacts/ft-support-1/');
    expect(details).toContain('`tuneflow status ft-support-1 --watch`');
  });

  it("names the run files' bucket when the store is S3", () => {
    const details = pipelineStartDecoration(input, { ...config, store: { kind: 's3', bucket: 'runs', prefix: 'tuneflow' } }, 'ft-1').staticDetails;
    expect(details).toContain('s3://runs/tuneflow/ft-1/');
  });

  it('names no dataset and tags no base model for an encrypted run', () => {
    const d = pipelineStartDecoration(input, encrypted, 'ft-20260101-000000-abcd');
    expect(d.typedSearchAttributes.map((p) => p.key.name)).toEqual(['TuneflowStage', 'TuneflowLine']);
    const shown = `${d.staticSummary}\n${d.staticDetails}\n${JSON.stringify(d.memo)}`;
    expect(shown).not.toContain('support-conversations');
    expect(d.memo.tuneflow.dataset).toBeNull();
  });
});

describe('the schedule tuneflow asks Temporal for', () => {
  const req: ScheduleRequest = { name: 'nightly', cron: '0 2 * * *', overlap: 'skip', input };

  it('starts fineTunePipeline as <name> (Temporal appends the time), decorated as a run started by hand, skipping overlaps, with a 10 minute catch-up window', () => {
    const o = scheduleOptions(req, config);
    expect(o.scheduleId).toBe('tuneflow-schedule-nightly');
    expect(o.spec).toEqual({ cronExpressions: ['0 2 * * *'] });
    expect(o.policies).toEqual({ overlap: 'SKIP', catchupWindow: 600_000 });
    expect(o.action).toMatchObject({ type: 'startWorkflow', workflowType: 'fineTunePipeline', taskQueue: 'tuneflow', workflowId: 'nightly', args: [input] });
    const decoration = pipelineStartDecoration(input, config, 'nightly-<scheduled time>');
    expect(o.action).toMatchObject({ staticSummary: decoration.staticSummary, staticDetails: decoration.staticDetails, memo: decoration.memo });
    expect(o.action.typedSearchAttributes).toEqual(decoration.typedSearchAttributes);
    expect(o.memo).toEqual({ tuneflow: expect.objectContaining({ cron: '0 2 * * *', model: 'gpt-4o-mini', line: 'support-bot' }) });
    expect(o.state).toEqual({ paused: false, note: 'created by tuneflow schedule create' });
  });

  it('carries the time zone, jitter, overlap and paused state asked for', () => {
    const o = scheduleOptions({ ...req, timezone: 'Europe/Berlin', jitterMs: 300_000, overlap: 'buffer-one', paused: true, note: 'from Monday', catchupWindowMs: 3_600_000 }, config);
    expect(o.spec).toEqual({ cronExpressions: ['0 2 * * *'], timezone: 'Europe/Berlin', jitter: 300_000 });
    expect(o.policies).toEqual({ overlap: 'BUFFER_ONE', catchupWindow: 3_600_000 });
    expect(o.state).toEqual({ paused: true, note: 'from Monday' });
  });

  it('refuses an unknown time zone, a name Temporal ids cannot carry and a catch-up window under 10 s', () => {
    expect(() => scheduleOptions({ ...req, timezone: 'Mars/Olympus' }, config)).toThrow(/--timezone "Mars\/Olympus" is not an IANA time zone/);
    expect(() => scheduleOptions({ ...req, name: 'Nightly Run' }, config)).toThrow(InvalidScheduleRequestError);
    expect(() => scheduleOptions({ ...req, catchupWindowMs: 5000 }, config)).toThrow(/at least 10s/);
  });
});

describe('run options shared by `tuneflow run` and `tuneflow schedule create`', () => {
  const base = { model: 'gpt-4o-mini', compare: [] };

  it('builds the input with line, approval and its timeout', async () => {
    const { input: built } = await runInputFromOptions('/d.jsonl', { ...base, line: 'bot', approval: 'required', approvalTimeout: '48h', minImprovement: 0.01, epochs: 2 }, '--dataset');
    expect(built).toMatchObject({ datasetPath: '/d.jsonl', line: 'bot', approval: 'required', approvalTimeoutSeconds: 172_800, hyperparameters: { n_epochs: 2 }, eval: { minImprovement: 0.01 } });
  });

  it('names the flag of a refused value, not the input field', async () => {
    await expect(runInputFromOptions('/d.jsonl', { ...base, validRatio: 1.5 }, '--dataset')).rejects.toThrow(/^--valid-ratio: /);
    await expect(runInputFromOptions('/d.jsonl', { ...base, epochs: 0 }, '--dataset')).rejects.toThrow(/^--epochs: /);
    await expect(runInputFromOptions('/d.jsonl', { ...base, line: 'Support Bot' }, '--dataset')).rejects.toThrow(/^--line: /);
    await expect(runInputFromOptions('/d.jsonl', { ...base, approval: 'required', approvalTimeout: '365d' }, '--dataset')).rejects.toThrow(/^--approval-timeout: /);
    await expect(runInputFromOptions('', base, '--dataset')).rejects.toThrow(/^--dataset: /);
    await expect(runInputFromOptions('/d.jsonl', { ...base, approvalTimeout: '1d' }, '--dataset')).rejects.toThrow(UsageError);
  });
});

describe('registering search attributes', () => {
  const target = { address: 'temporal.internal:7233', namespace: 'ml' };

  it('prints one Temporal CLI command with a --type after every --name (one --type for several names registers only the first)', () => {
    expect(temporalCliCommand(target, [{ name: 'TuneflowLine', type: 'KEYWORD' }, { name: 'TuneflowOutcome', type: 'KEYWORD' }])).toBe(
      'temporal operator search-attribute create --address temporal.internal:7233 --namespace ml --name TuneflowLine --type Keyword --name TuneflowOutcome --type Keyword',
    );
  });

  it('tells a worker what is missing, `tuneflow setup`, and how to fix an attribute of the wrong type', () => {
    const text = describeProblems(target, { missing: [{ name: 'TuneflowLine', type: 'KEYWORD' }], wrongType: [{ name: 'TuneflowStage', registered: 'Text', wanted: 'Keyword' }] });
    expect(text).toContain('lacks search attributes tuneflow sets on every run: TuneflowLine');
    expect(text).toContain('\n  tuneflow setup\n');
    expect(text).toContain('TuneflowStage on namespace ml is registered as Text; tuneflow needs Keyword');
  });
});
