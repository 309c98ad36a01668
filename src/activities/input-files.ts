import { S3ServiceException } from '@aws-sdk/client-s3';
import { InvalidS3UriError, parseS3Uri, s3ObjectSource, StoreObjectNotFoundError, type ByteSource, type Storage } from '../store';
import { assertInputFile, nonRetryable, type InputFileRule } from './failures';

function isAccessDenied(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'AccessDenied' || err.name === 'Forbidden' || err.$metadata.httpStatusCode === 403);
}

/** `s3://bucket/prefix` covers that prefix as a folder: the object itself or anything under `prefix/`. */
export function isUnderS3Root(uri: string, root: string): boolean {
  return root.endsWith('/') ? uri.startsWith(root) : uri === root || uri.startsWith(`${root}/`);
}

/** As local paths must lie under a data root, objects must lie under an `s3://` data root: a hostile input names no other object the worker can read. */
function assertUnderS3Root(uri: string, rule: InputFileRule): void {
  const roots = rule.roots.filter((r) => r.startsWith('s3://'));
  if (roots.some((root) => isUnderS3Root(uri, root))) return;
  throw nonRetryable(
    `${rule.what} ${uri} is outside the worker's data roots (${roots.length > 0 ? roots.join(', ') : 'no s3:// root set'}). The worker reads objects only under the ` +
      `s3:// entries of TUNEFLOW_DATA_ROOTS: add s3://<bucket>/<prefix> there (entries separated by ':') and restart the worker.`,
    'PathOutsideDataRoots',
  );
}

/**
 * A dataset or eval file named in workflow input, checked before anything reads it: an `s3://` URI is
 * an object the worker's credentials must be able to see; anything else is a local path, confined to
 * the data roots (see assertInputFile). Returns what to read: the resolved path, or the object.
 */
export async function openInputFile(ref: string, rule: InputFileRule, storage: Pick<Storage, 's3'>): Promise<string | ByteSource> {
  if (!ref.startsWith('s3://')) return assertInputFile(ref, { ...rule, roots: rule.roots.filter((r) => !r.startsWith('s3://')) });
  let source: ByteSource;
  try {
    const { bucket, key } = parseS3Uri(ref);
    assertUnderS3Root(ref, rule);
    source = s3ObjectSource(storage.s3(), bucket, key);
  } catch (err) {
    if (err instanceof InvalidS3UriError) throw nonRetryable(`${rule.what} ${err.message}`, 'InvalidInputUri');
    throw err;
  }
  try {
    await source.size();
  } catch (err) {
    if (err instanceof StoreObjectNotFoundError) throw nonRetryable(`${rule.what} ${ref} does not exist (or its bucket does not)`, rule.notFoundType);
    if (isAccessDenied(err)) {
      throw nonRetryable(`${rule.what} ${ref} cannot be read with the worker's AWS credentials (access denied)`, 'InputAccessDenied');
    }
    throw err;
  }
  return source;
}
