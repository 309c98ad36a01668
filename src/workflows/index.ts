export { fineTunePipeline, progressQuery } from './pipeline';
export { reapOrphanedJobs } from './reaper';
