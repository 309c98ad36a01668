import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_NAMES } from './stages';

export const STAGE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.stage, 'KEYWORD');
export const JOB_ID_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.jobId, 'KEYWORD');
export const BASE_MODEL_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.model, 'KEYWORD');

export const TUNEFLOW_SEARCH_ATTRIBUTES = [STAGE_KEY, JOB_ID_KEY, BASE_MODEL_KEY] as const;
