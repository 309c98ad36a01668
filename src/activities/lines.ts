import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Champion, LineRunRecord } from '../domain/lines';
import { assertLineName, InvalidLineNameError, lineStartOperation, queryLineState, recordLineRunUpdateId } from '../lines';
import { recordLineRunUpdate } from '../messages';
import { nonRetryable } from './failures';

export interface LineActivityDeps {
  logger: Logger;
}

function checkedLine(line: string): void {
  try {
    assertLineName(line);
  } catch (err) {
    if (err instanceof InvalidLineNameError) throw nonRetryable(err.message, 'InvalidLineName');
    throw err;
  }
}

/** A run's side of its line; Temporal is reached through the worker's own client. */
export function createLineActivities({ logger }: LineActivityDeps) {
  return {
    /** The line's champion, or null for a line that does not exist yet. */
    async lineChampion({ line }: { line: string }): Promise<Champion | null> {
      checkedLine(line);
      const state = await queryLineState(Context.current().client, line);
      return state?.champion ?? null;
    },

    /**
     * Records a run's decision on its line, starting the line on first use (on this worker's task
     * queue); answers the line's champion after it. A retry is dropped by its update id and by the line.
     */
    async recordLineRun(record: LineRunRecord & { line: string }): Promise<Champion | null> {
      const { line, ...entry } = record;
      checkedLine(line);
      const ctx = Context.current();
      try {
        const champion = await ctx.client.workflow.executeUpdateWithStart(recordLineRunUpdate, {
          args: [entry],
          updateId: recordLineRunUpdateId(entry.workflowId, entry.runId),
          startWorkflowOperation: lineStartOperation(line, ctx.info.taskQueue),
        });
        logger.info({ line, workflowId: entry.workflowId, outcome: entry.outcome, model: entry.model, champion: champion?.model ?? null }, 'Recorded run on its line');
        return champion;
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw nonRetryable(`Line ${line} refused the record of run ${entry.workflowId}: ${err.cause?.message ?? err.message}`, 'LineRuleError', err);
        throw err;
      }
    },
  };
}
