export * from './metrics';
export * from './bootstrap';
export * from './compare';
export * from './subsample';
export * from './decision';
export * from './judge';
export * from './types';
export * from './summary';
