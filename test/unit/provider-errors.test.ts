import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyProviderError, retryAfterMs } from '../../src/provider/errors';

function apiError(status: number, body: object, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(status, body, undefined, new Headers(headers));
}

describe('classifyProviderError', () => {
  it.each([400, 401, 403, 404, 422])('makes a %i from the provider non-retryable, keeping the provider error as the cause', (status) => {
    const err = apiError(status, { error: { message: 'nope', type: 'invalid_request_error', code: 'x', param: null } });
    const failure = classifyProviderError(err, 'Creating the fine-tuning job') as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.cause).toBe(err);
    expect(failure.message).toContain(String(status));
  });

  it.each([408, 409, 429, 500, 503])('lets Temporal retry a %i', (status) => {
    const failure = classifyProviderError(apiError(status, { error: { message: 'busy' } }), 'Polling') as ApplicationFailure;
    expect(failure.nonRetryable).toBe(false);
  });

  it('honours retry-after on a 429 as the next retry delay', () => {
    const failure = classifyProviderError(apiError(429, { error: { message: 'slow down' } }, { 'retry-after': '7' }), 'Uploading') as ApplicationFailure;
    expect(failure.nextRetryDelay).toBe(7000);
  });

  it('retries a connection error', () => {
    const failure = classifyProviderError(new OpenAI.APIConnectionError({ message: 'ECONNREFUSED' }), 'Uploading') as ApplicationFailure;
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('APIConnectionError');
  });

  it('tells a person what to do when fine-tuning is refused', () => {
    const failure = classifyProviderError(apiError(403, { error: { message: 'Fine-tuning is not available', type: 'invalid_request_error' } }), 'creating the fine-tuning job') as ApplicationFailure;
    expect(failure.type).toBe('PermissionDeniedError');
    expect(failure.message).toMatch(/Fine-tuning is not available/);
    expect(failure.message).toMatch(/OPENAI_BASE_URL/);
  });

  it('passes errors that are not from the provider through unchanged', () => {
    const err = new TypeError('bug');
    expect(classifyProviderError(err, 'x')).toBe(err);
  });
});

describe('retryAfterMs', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sat, 21 Nov 2026 10:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
  });
});
