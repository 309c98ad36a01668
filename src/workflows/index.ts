export { fineTunePipeline, progressQuery } from './pipeline';
