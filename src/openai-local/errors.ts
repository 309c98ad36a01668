// OpenAI's error envelope: every non-2xx answer is { error: { message, type, param, code } }.
import { ORG_ID } from './models';

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, message, 'invalid_request_error', param, code);

export const notFound = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(404, message, 'invalid_request_error', param, code);

export const conflict = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(409, message, 'invalid_request_error', param, code);

export const fileNotFound = (id: string): ApiError => notFound(`No such File object: ${id}`, 'id', null);

export const jobNotFound = (id: string): ApiError =>
  notFound(`Could not find fine tune: ${id}`, 'fine_tune_id', 'fine_tune_not_found');

export const modelNotFound = (model: string): ApiError =>
  notFound(`The model \`${model}\` does not exist or you do not have access to it.`, null, 'model_not_found');

export const missingApiKey = (): ApiError =>
  new ApiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
    'invalid_request_error',
    null,
    null,
  );

export const invalidApiKey = (): ApiError =>
  new ApiError(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', null, 'invalid_api_key');

export const invalidJson = (): ApiError =>
  badRequest(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
  );

export const serverError = (): ApiError =>
  new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');

/** 429 of the tokens-per-minute limit in the provider's wording ("Request too large" when no wait helps). */
export function tokensRateLimitError(opts: {
  model: string;
  tpm: number;
  requested: number;
  decision: { retryAfterMs: number; available: number; tooLarge: boolean };
  headers: Record<string, string>;
}): ApiError {
  const where = `for ${opts.model} in organization ${ORG_ID} on tokens per min (TPM)`;
  if (opts.decision.tooLarge) {
    return new ApiError(
      429,
      `Request too large ${where}: Limit ${opts.tpm}, Requested ${opts.requested}. The input or output tokens must be reduced in order to run successfully.`,
      'tokens',
      null,
      'rate_limit_exceeded',
      opts.headers,
    );
  }
  const wait = Math.max(1, Math.ceil(opts.decision.retryAfterMs));
  const used = Math.max(0, Math.round(opts.tpm - opts.decision.available));
  const waitText = wait < 1000 ? `${wait}ms` : `${(wait / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
  return new ApiError(
    429,
    `Rate limit reached ${where}: Limit ${opts.tpm}, Used ${used}, Requested ${opts.requested}. Please try again in ${waitText}.`,
    'tokens',
    null,
    'rate_limit_exceeded',
    { ...opts.headers, 'retry-after': String(Math.ceil(wait / 1000)), 'retry-after-ms': String(wait) },
  );
}
