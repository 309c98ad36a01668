export { fineTunePipeline, progressQuery, resumeUpdate } from './pipeline';
export { evaluateCandidates } from './evaluation';
export { reapOrphanedJobs } from './reaper';
