/** A payload this process cannot decrypt: names the key id, which is all a person needs to find the key. */
export class PayloadKeyError extends Error {
  constructor(
    message: string,
    readonly keyId: string,
  ) {
    super(message);
    this.name = 'PayloadKeyError';
  }
}

/** The PayloadKeyError behind an SDK error, if one is: the SDK may wrap what a codec throws. */
export function findPayloadKeyError(err: unknown): PayloadKeyError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof PayloadKeyError || e.name === 'PayloadKeyError') return e as PayloadKeyError;
  }
  return undefined;
}
