import { constants, type Stats } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

/** A refusal that no retry will change, named by type so the Temporal UI and callers can tell it apart. */
export function nonRetryable(message: string, type: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, cause: cause instanceof Error ? cause : undefined });
}

export interface InputFileRule {
  /** What the file is for, as the message names it: "Dataset", "Eval file". */
  what: string;
  /** Failure type when the file does not exist or cannot be read. */
  notFoundType: string;
  /** Absolute folders with symlinks resolved (config.dataRoots). */
  roots: readonly string[];
  /** Also allowed: the artifacts folder, where a run reads its own files (the held-out split as eval file). */
  artifactsDir?: string;
}

function isUnder(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function describeKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Checks a path that arrived in workflow input before anything reads it: it must resolve (symlinks
 * included) inside one of the roots, and be a regular file the worker can read. stat only, never
 * open: opening a FIFO blocks. Returns the resolved path, which is what the caller should read.
 */
export async function assertInputFile(file: string, rule: InputFileRule): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(file);
  } catch {
    throw nonRetryable(`${rule.what} ${file} does not exist or cannot be read by the worker`, rule.notFoundType);
  }
  const own = rule.artifactsDir === undefined ? [] : [await realpath(rule.artifactsDir).catch(() => path.resolve(rule.artifactsDir as string))];
  if (![...rule.roots, ...own].some((root) => isUnder(resolved, root))) {
    const via = resolved === path.resolve(file) ? '' : ` (it resolves to ${resolved})`;
    const roots = rule.roots.length > 0 ? rule.roots.join(path.delimiter) : 'none set';
    throw nonRetryable(
      `${rule.what} ${file}${via} is outside the worker's data roots (${roots}). The worker reads datasets and eval files only under ` +
        `TUNEFLOW_DATA_ROOTS: move the file there, or add its folder to TUNEFLOW_DATA_ROOTS (folders separated by '${path.delimiter}') and restart the worker.`,
      'PathOutsideDataRoots',
    );
  }
  let info: Stats;
  try {
    info = await stat(resolved);
    await access(resolved, constants.R_OK);
  } catch {
    throw nonRetryable(`${rule.what} ${file} does not exist or cannot be read by the worker`, rule.notFoundType);
  }
  if (!info.isFile()) {
    throw nonRetryable(`${rule.what} ${file} is ${describeKind(info)}, not a regular file: only regular files are read`, 'NotARegularFile');
  }
  return resolved;
}
