// Query-string and cursor helpers shared by the list endpoints.
import { badRequest } from './errors';

export type Query = Record<string, string | string[] | undefined>;

export function queryString(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function queryLimit(q: Query, fallback: number, max: number): number {
  const raw = queryString(q, 'limit');
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`Invalid 'limit': must be an integer between 1 and ${max}.`, 'limit', 'invalid_value');
  return n;
}

/** Items after the cursor (exclusive), limited, with has_more; an unknown cursor is a 400 like the provider's. */
export function page<T>(items: T[], idOf: (t: T) => string, after: string | undefined, limit: number): { data: T[]; hasMore: boolean } {
  let start = 0;
  if (after !== undefined && after !== '') {
    const i = items.findIndex((t) => idOf(t) === after);
    if (i < 0) throw badRequest(`Invalid 'after': no object with id ${after} in this list.`, 'after', 'invalid_value');
    start = i + 1;
  }
  const data = items.slice(start, start + limit);
  return { data, hasMore: start + limit < items.length };
}
