/** A dataset file that cannot be read or split; carries the path and, when known, the line and code. */
export class DatasetFileError extends Error {
  constructor(
    message: string,
    readonly code: 'file_not_found' | 'not_a_file' | 'unreadable' | 'unknown_model' | 'invalid_dataset' | 'file_changed',
    readonly file: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'DatasetFileError';
  }
}
