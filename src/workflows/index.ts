export { fineTunePipeline, progressQuery, resumeSignal } from './pipeline';
export { evaluateCandidates } from './evaluation';
export { reapOrphanedJobs } from './reaper';
export { modelLine } from './line';
