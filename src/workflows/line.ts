import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { applyPromote, applyRollback, applyRunRecord, emptyLine, LINE_NAME_PATTERN, LineRuleError, type LineChange, type ModelLineInput } from '../domain/lines';

export type { ModelLineInput } from '../domain/lines';
import { LINE_KEY } from '../domain/search-attributes';
import { lineStateQuery, promoteUpdate, recordLineRunUpdate, rollbackUpdate } from '../messages';


const DEFAULT_MAX_UPDATES_PER_RUN = 500;

/** A rule's refusal as the failure the caller sees (type `LineRuleError`, its message as is). */
function underRules(change: () => LineChange): LineChange {
  try {
    return change();
  } catch (err) {
    if (err instanceof LineRuleError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

/**
 * One line's state (champion, previous champions, history), changed only through its updates. Never
 * completes: it waits for updates and continues as new with its state before its history grows long.
 */
export async function modelLine(input: ModelLineInput): Promise<void> {
  if (typeof input.line !== 'string' || !LINE_NAME_PATTERN.test(input.line)) {
    throw ApplicationFailure.nonRetryable(`${JSON.stringify(input.line)} is not a line name: ${LINE_NAME_PATTERN.source}`, 'InvalidLineName');
  }
  let state = input.state ?? emptyLine(input.line, new Date().toISOString());
  let updates = 0;
  const maxUpdates = input.maxUpdatesPerRun ?? DEFAULT_MAX_UPDATES_PER_RUN;
  // A line started by hand (not through tuneflow) is still found by TuneflowLine in the UI.
  if (workflowInfo().typedSearchAttributes.get(LINE_KEY) !== input.line) upsertSearchAttributes([{ key: LINE_KEY, value: input.line }]);

  const apply = (change: () => LineChange) => {
    const next = underRules(change);
    state = next.state;
    updates += 1;
    return next.champion;
  };
  setHandler(lineStateQuery, () => state);
  setHandler(recordLineRunUpdate, (record) => apply(() => applyRunRecord(state, record, new Date().toISOString())), {
    validator: (record) => void underRules(() => applyRunRecord(state, record, new Date().toISOString())),
  });
  setHandler(
    promoteUpdate,
    (req) => {
      const champion = apply(() => applyPromote(state, req, new Date().toISOString()));
      if (!champion) throw ApplicationFailure.nonRetryable(`Line ${state.line}: promote left no champion`, 'LineRuleError');
      return champion;
    },
    { validator: (req) => void underRules(() => applyPromote(state, req, new Date().toISOString())) },
  );
  setHandler(
    rollbackUpdate,
    (req) => {
      const champion = apply(() => applyRollback(state, req, new Date().toISOString()));
      if (!champion) throw ApplicationFailure.nonRetryable(`Line ${state.line}: rollback left no champion`, 'LineRuleError');
      return champion;
    },
    { validator: (req) => void underRules(() => applyRollback(state, req, new Date().toISOString())) },
  );

  await condition(() => updates >= maxUpdates || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof modelLine>({ line: input.line, state, ...(input.maxUpdatesPerRun !== undefined ? { maxUpdatesPerRun: input.maxUpdatesPerRun } : {}) });
}
