import type { OperatorService } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { TUNEFLOW_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

// `tuneflow setup` registers tuneflow's search attributes on a namespace; `tuneflow worker` refuses to start without them.

/** The Temporal CLI's word for each type (`--type Keyword`). */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

function cliTypeOf(indexed: number): string {
  const found = (Object.keys(CLI_TYPE) as SearchAttributeType[]).find((t) => encodeSearchAttributeIndexedValueType(t) === indexed);
  return found ? CLI_TYPE[found] : `type ${indexed}`;
}

export interface WantedAttribute {
  name: string;
  type: SearchAttributeType;
}

export interface SearchAttributeCheck {
  missing: WantedAttribute[];
  /** Registered under tuneflow's name with another type: `setup` cannot fix these. */
  wrongType: { name: string; registered: string; wanted: string }[];
}

export async function checkSearchAttributes(operator: OperatorService, namespace: string): Promise<SearchAttributeCheck> {
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const registered = customAttributes ?? {};
  const check: SearchAttributeCheck = { missing: [], wrongType: [] };
  for (const key of TUNEFLOW_SEARCH_ATTRIBUTES) {
    const have = registered[key.name];
    if (have === undefined) check.missing.push({ name: key.name, type: key.type });
    else if (have !== encodeSearchAttributeIndexedValueType(key.type)) check.wrongType.push({ name: key.name, registered: cliTypeOf(have), wanted: CLI_TYPE[key.type] });
  }
  return check;
}

/**
 * The Temporal CLI command that registers `missing`. Each `--name` needs its own `--type` after it: with one
 * `--type` for several names, the CLI registers only the first.
 */
export function temporalCliCommand(target: { address: string; namespace: string }, missing: WantedAttribute[]): string {
  return `temporal operator search-attribute create --address ${target.address} --namespace ${target.namespace} ${missing.map((a) => `--name ${a.name} --type ${CLI_TYPE[a.type]}`).join(' ')}`;
}

export function describeProblems(target: { address: string; namespace: string }, check: SearchAttributeCheck): string {
  const parts: string[] = [];
  if (check.missing.length > 0) {
    parts.push(
      `Namespace ${target.namespace} at ${target.address} lacks search attributes tuneflow sets on every run: ${check.missing.map((a) => a.name).join(', ')}. ` +
        `Register them once (it is safe to run again), then start the worker again:\n  tuneflow setup\nor, with the Temporal CLI:\n  ${temporalCliCommand(target, check.missing)}`,
    );
  }
  for (const w of check.wrongType) {
    parts.push(
      `Search attribute ${w.name} on namespace ${target.namespace} is registered as ${w.registered}; tuneflow needs ${w.wanted}. Remove it ` +
        `(temporal operator search-attribute remove --address ${target.address} --namespace ${target.namespace} --name ${w.name}) and run \`tuneflow setup\`.`,
    );
  }
  return parts.join('\n');
}

export class SearchAttributesNotRegisteredError extends Error {}

/**
 * A worker's check at startup: throws, naming what is missing and the commands that register it. A
 * connection that may not list search attributes (a narrow Cloud role) cannot be checked: `onUnchecked` hears why.
 */
export async function assertSearchAttributesRegistered(operator: OperatorService, target: { address: string; namespace: string }, onUnchecked: (reason: string) => void): Promise<void> {
  let check: SearchAttributeCheck;
  try {
    check = await checkSearchAttributes(operator, target.namespace);
  } catch (err) {
    onUnchecked(err instanceof Error ? err.message : String(err));
    return;
  }
  if (check.missing.length > 0 || check.wrongType.length > 0) throw new SearchAttributesNotRegisteredError(describeProblems(target, check));
}

export interface RegisterOutcome {
  added: string[];
  alreadyThere: string[];
}

/** Registers the missing ones; those already there (with the right type) are left alone, so running it twice is a no-op. */
export async function registerSearchAttributes(operator: OperatorService, target: { address: string; namespace: string }): Promise<RegisterOutcome> {
  const before = await checkSearchAttributes(operator, target.namespace);
  if (before.wrongType.length > 0) throw new SearchAttributesNotRegisteredError(describeProblems(target, { missing: [], wrongType: before.wrongType }));
  const wanted = new Set(before.missing.map((a) => a.name));
  const alreadyThere = TUNEFLOW_SEARCH_ATTRIBUTES.map((k) => k.name).filter((n) => !wanted.has(n));
  if (before.missing.length === 0) return { added: [], alreadyThere };
  try {
    await operator.addSearchAttributes({
      namespace: target.namespace,
      searchAttributes: Object.fromEntries(before.missing.map((a) => [a.name, encodeSearchAttributeIndexedValueType(a.type)!])),
    });
  } catch (err) {
    // Another `setup` may have added them a moment ago: what counts is whether they are there now.
    const after = await checkSearchAttributes(operator, target.namespace).catch(() => before);
    if (after.missing.length > 0 || after.wrongType.length > 0) {
      throw new SearchAttributesNotRegisteredError(
        `Could not register ${after.missing.map((a) => a.name).join(', ')} on namespace ${target.namespace} at ${target.address}: ` +
          `${err instanceof Error ? err.message : String(err)}. The connection needs the admin role; on Temporal Cloud, add them as Keyword attributes in the namespace's settings.`,
      );
    }
    return { added: [], alreadyThere: TUNEFLOW_SEARCH_ATTRIBUTES.map((k) => k.name) };
  }
  return { added: [...wanted], alreadyThere };
}
