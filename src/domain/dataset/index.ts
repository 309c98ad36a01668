// Pure dataset rules shared by the CLI and the Temporal pipeline: no I/O, no Node built-ins.
export * from './accumulator';
export * from './analysis';
export * from './codes';
export * from './cost';
export * from './example-checks';
export * from './example-groups';
export * from './failure-message';
export * from './models';
export * from './pii';
export * from './split';
export * from './statistics';
export * from './tokens';
export * from './types';
