// The I/O side of dataset validation: streaming reads, the tokenizer, split files, the readable report.
export type { SplitManifest, ValidationReport } from '../domain/dataset';
export { DatasetFileError } from './errors';
export { formatValidationReport } from './format-report';
export { createTokenCounter } from './tokenizer';
export { splitDatasetFile, type SplitOptions, type SplitProgress } from './split-file';
export { MAX_FILE_BYTES, modelFactsFor, validateDatasetFile, type DatasetReadProgress, type ValidateOptions } from './validate-file';
