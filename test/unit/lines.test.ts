import { describe, expect, it } from 'vitest';
import {
  applyPromote,
  applyRollback,
  applyRunRecord,
  emptyLine,
  LINE_HISTORY_LIMIT,
  LINE_PREVIOUS_CHAMPIONS_LIMIT,
  LineRuleError,
  type LineRunRecord,
  type LineScores,
  type LineState,
} from '../../src/domain/lines';
import { formatLineList } from '../../src/cli/line';

const T0 = '2026-03-01T00:00:00.000Z';
const T1 = '2026-03-02T00:00:00.000Z';
const scores = (mean: number): LineScores => ({ primaryMetric: 'exact_match', mean, vsChampion: null, vsBase: { diff: 0.1, ci95: [0.05, 0.15] } });

function run(n: number, outcome: LineRunRecord['outcome'], model: string | null = `ft:gpt-4o-mini:support:${n}`): LineRunRecord {
  return {
    at: `2026-03-01T0${n % 10}:00:00.000Z`,
    workflowId: `ft-support-${n}`,
    runId: `run-${n}`,
    model,
    datasetSha256: `sha-${n}`,
    outcome,
    decidedBy: 'gate',
    reason: `${outcome} by the gate`,
    scores: model ? scores(0.5 + n / 100) : null,
  };
}

const records = (state: LineState, ...rs: LineRunRecord[]): LineState => rs.reduce((s, r) => applyRunRecord(s, r, T1).state, state);

describe('emptyLine', () => {
  it('starts a line with no champion, no previous champions and no history', () => {
    expect(emptyLine('support-bot', T0)).toEqual({ line: 'support-bot', createdAt: T0, champion: null, previousChampions: [], history: [] });
  });
});

describe('applyRunRecord', () => {
  it("makes a promoted run's model champion, with its dataset hash, scores and run", () => {
    const { state, champion } = applyRunRecord(emptyLine('support-bot', T0), run(1, 'promoted'), T1);
    expect(champion).toEqual({ model: 'ft:gpt-4o-mini:support:1', datasetSha256: 'sha-1', scores: scores(0.51), workflowId: 'ft-support-1', promotedAt: T1, promotedBy: 'gate' });
    expect(state.champion).toEqual(champion);
    expect(state.history).toEqual([{ ...run(1, 'promoted'), kind: 'run', previousChampion: null }]);
  });

  it('pushes the old champion onto previousChampions when a run is promoted', () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'promoted'), run(2, 'promoted'));
    expect(state.champion?.model).toBe('ft:gpt-4o-mini:support:2');
    expect(state.previousChampions.map((c) => c.model)).toEqual(['ft:gpt-4o-mini:support:1']);
    expect(state.history.at(-1)?.previousChampion).toBe('ft:gpt-4o-mini:support:1');
  });

  it('records a rejected or skipped run in history and leaves the champion as it was', () => {
    const before = records(emptyLine('support-bot', T0), run(1, 'promoted'));
    const rejected = applyRunRecord(before, run(2, 'rejected'), T1);
    expect(rejected.champion).toEqual(before.champion);
    const skipped = applyRunRecord(rejected.state, run(3, 'skipped', null), T1);
    expect(skipped.state.champion).toEqual(before.champion);
    expect(skipped.state.previousChampions).toEqual([]);
    expect(skipped.state.history.map((e) => [e.workflowId, e.outcome, e.previousChampion])).toEqual([
      ['ft-support-1', 'promoted', null],
      ['ft-support-2', 'rejected', 'ft:gpt-4o-mini:support:1'],
      ['ft-support-3', 'skipped', 'ft:gpt-4o-mini:support:1'],
    ]);
  });

  it('changes nothing for a record whose workflow id and run id are already in history, and answers the current champion', () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'promoted'), run(2, 'promoted'));
    const again = applyRunRecord(state, run(1, 'promoted'), '2026-03-09T00:00:00.000Z');
    expect(again.state).toBe(state);
    expect(again.champion?.model).toBe('ft:gpt-4o-mini:support:2');
  });

  it('treats the same workflow id under another run id as a new run', () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'rejected'), { ...run(1, 'promoted'), runId: 'run-1-again' });
    expect(state.history).toHaveLength(2);
    expect(state.champion?.model).toBe('ft:gpt-4o-mini:support:1');
  });

  it('refuses a promoted record without a model, or without its run ids', () => {
    const line = emptyLine('support-bot', T0);
    expect(() => applyRunRecord(line, run(1, 'promoted', null), T1)).toThrow(new LineRuleError('Line support-bot: run ft-support-1 is promoted but names no model'));
    expect(() => applyRunRecord(line, { ...run(1, 'rejected'), runId: '' }, T1)).toThrow(LineRuleError);
    expect(() => applyRunRecord(line, { ...run(1, 'rejected'), outcome: 'approved' as 'promoted' }, T1)).toThrow(/outcome "approved"/);
  });

  it(`keeps only the newest ${LINE_HISTORY_LIMIT} history entries`, () => {
    let state = emptyLine('support-bot', T0);
    for (let n = 0; n < LINE_HISTORY_LIMIT + 20; n++) state = applyRunRecord(state, run(n, 'rejected'), T1).state;
    expect(state.history).toHaveLength(LINE_HISTORY_LIMIT);
    expect(state.history[0]?.workflowId).toBe('ft-support-20');
    expect(state.history.at(-1)?.workflowId).toBe(`ft-support-${LINE_HISTORY_LIMIT + 19}`);
  });

  it(`keeps only the newest ${LINE_PREVIOUS_CHAMPIONS_LIMIT} previous champions`, () => {
    let state = emptyLine('support-bot', T0);
    for (let n = 0; n < LINE_PREVIOUS_CHAMPIONS_LIMIT + 5; n++) state = applyRunRecord(state, run(n, 'promoted'), T1).state;
    expect(state.previousChampions).toHaveLength(LINE_PREVIOUS_CHAMPIONS_LIMIT);
    expect(state.previousChampions[0]?.model).toBe('ft:gpt-4o-mini:support:4');
    expect(state.previousChampions.at(-1)?.model).toBe(`ft:gpt-4o-mini:support:${LINE_PREVIOUS_CHAMPIONS_LIMIT + 3}`);
  });
});

describe('applyPromote', () => {
  it("takes the dataset hash and scores from the newest history entry about the model, and the run that trained it", () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'promoted'), run(2, 'rejected'));
    const { state: after, champion } = applyPromote(state, { model: 'ft:gpt-4o-mini:support:2', by: 'ana', reason: 'better on refunds' }, T1);
    expect(champion).toEqual({ model: 'ft:gpt-4o-mini:support:2', datasetSha256: 'sha-2', scores: scores(0.52), workflowId: 'ft-support-2', promotedAt: T1, promotedBy: 'person:ana' });
    expect(after.previousChampions.map((c) => c.model)).toEqual(['ft:gpt-4o-mini:support:1']);
    expect(after.history.at(-1)).toEqual({
      at: T1,
      kind: 'promote',
      workflowId: null,
      runId: null,
      model: 'ft:gpt-4o-mini:support:2',
      datasetSha256: 'sha-2',
      outcome: 'promoted',
      decidedBy: 'person:ana',
      reason: 'better on refunds',
      scores: scores(0.52),
      previousChampion: 'ft:gpt-4o-mini:support:1',
    });
  });

  it('promotes a model the line never saw with no dataset hash, scores or run', () => {
    const { champion, state } = applyPromote(emptyLine('support-bot', T0), { model: 'gpt-4o-mini-2024-07-18', by: 'ana' }, T1);
    expect(champion).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', datasetSha256: null, scores: null, workflowId: null, promotedBy: 'person:ana' });
    expect(state.history[0]?.reason).toBe('promoted by hand');
  });

  it('does not stack the champion onto previousChampions when the same model is promoted again', () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'promoted'));
    const { state: after } = applyPromote(state, { model: 'ft:gpt-4o-mini:support:1', by: 'ana' }, T1);
    expect(after.previousChampions).toEqual([]);
    expect(after.champion?.promotedBy).toBe('person:ana');
  });

  it('refuses an empty model name or an empty `by`', () => {
    expect(() => applyPromote(emptyLine('support-bot', T0), { model: '  ', by: 'ana' }, T1)).toThrow(new LineRuleError('Line support-bot: promote needs a model name'));
    expect(() => applyPromote(emptyLine('support-bot', T0), { model: 'm', by: '' }, T1)).toThrow(LineRuleError);
  });
});

describe('applyRollback', () => {
  it('restores previous champions newest first, one per rollback, marked as rolled back by whom', () => {
    let state = records(emptyLine('support-bot', T0), run(1, 'promoted'), run(2, 'promoted'));
    state = applyPromote(state, { model: 'ft:gpt-4o-mini:support:3', by: 'ana' }, T1).state;
    const first = applyRollback(state, { by: 'bo' }, T1);
    expect(first.champion).toMatchObject({ model: 'ft:gpt-4o-mini:support:2', datasetSha256: 'sha-2', workflowId: 'ft-support-2', promotedBy: 'rollback:bo' });
    expect(first.state.history.at(-1)).toMatchObject({ kind: 'rollback', model: 'ft:gpt-4o-mini:support:2', decidedBy: 'person:bo', reason: 'rolled back from ft:gpt-4o-mini:support:3', previousChampion: 'ft:gpt-4o-mini:support:3' });
    const second = applyRollback(first.state, { by: 'bo', reason: 'regression on billing' }, T1);
    expect(second.champion?.model).toBe('ft:gpt-4o-mini:support:1');
    expect(second.state.previousChampions).toEqual([]);
    expect(second.state.history.at(-1)?.reason).toBe('regression on billing');
  });

  it('refuses with a clear error when there is no previous champion', () => {
    expect(() => applyRollback(emptyLine('support-bot', T0), { by: 'bo' }, T1)).toThrow(new LineRuleError('Line support-bot has no previous champion to roll back to: it has no champion yet'));
    const one = records(emptyLine('support-bot', T0), run(1, 'promoted'));
    expect(() => applyRollback(one, { by: 'bo' }, T1)).toThrow('Line support-bot has no previous champion to roll back to: its champion ft:gpt-4o-mini:support:1 is the first it had');
  });
});

describe('tuneflow line list', () => {
  it('shows a line no worker answered for with the reason instead of dropping it', () => {
    const state = records(emptyLine('support-bot', T0), run(1, 'promoted'), run(2, 'rejected'));
    const text = formatLineList([
      { line: 'billing', state: null, error: 'No worker answered the state query on line billing within 10 s' },
      { line: 'support-bot', state, error: null },
    ]);
    expect(text.split('\n').map((row) => row.split(/ {2,}/))).toEqual([
      ['line', 'champion', 'trained on', 'promoted by', 'when', 'runs'],
      ['billing', '(unknown: No worker answered the state query on line billing within 10 s)', '–', '–', '–', '–'],
      ['support-bot', 'ft:gpt-4o-mini:support:1', 'sha-1', 'gate', T1, '2'],
    ]);
  });
});
