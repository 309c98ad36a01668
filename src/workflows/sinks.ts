import { proxySinks, workflowInfo, type Sinks } from '@temporalio/workflow';
import type { Stage } from '../domain/stages';

/** What a run tells the worker outside its history (the worker counts it in its metrics). */
export interface RunSinks extends Sinks {
  runs: {
    /** A run moved from one stage to another; `from` is null for a run's first stage. */
    stageEntered(from: Stage | null, to: Stage): void;
  };
}

const { runs } = proxySinks<RunSinks>();

/** Reports a stage transition; never while replaying, so a replay worker without the sink stays quiet. */
export function reportStage(from: Stage | null, to: Stage): void {
  if (!workflowInfo().unsafe.isReplaying) runs.stageEntered(from, to);
}
