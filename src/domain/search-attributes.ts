import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_NAMES } from './stages';

export const STAGE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.stage, 'KEYWORD');
export const JOB_ID_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.jobId, 'KEYWORD');
export const BASE_MODEL_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.model, 'KEYWORD');
export const LINE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.line, 'KEYWORD');
export const OUTCOME_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.outcome, 'KEYWORD');
export const FINE_TUNED_MODEL_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.fineTunedModel, 'KEYWORD');

/** Every custom search attribute tuneflow's workflows set: `tuneflow setup` registers them, workers refuse to start without them. */
export const TUNEFLOW_SEARCH_ATTRIBUTES = [STAGE_KEY, JOB_ID_KEY, BASE_MODEL_KEY, LINE_KEY, OUTCOME_KEY, FINE_TUNED_MODEL_KEY] as const;
