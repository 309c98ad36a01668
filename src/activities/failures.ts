import { access } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';

/** A refusal that no retry will change, named by type so the Temporal UI and callers can tell it apart. */
export function nonRetryable(message: string, type: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, cause: cause instanceof Error ? cause : undefined });
}

/** A missing input file is the caller's mistake: fail without retrying, naming the file as the worker sees it. */
export async function assertReadableFile(file: string, what: string, type: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw nonRetryable(`${what} ${file} does not exist or cannot be read by the worker`, type);
  }
}
