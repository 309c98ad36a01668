// Dedicated endpoints: persisted records whose state is derived from the simulated clock (PENDING → STARTING → STARTED).
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store';
import { endpointSystemName } from './catalog';
import type { EndpointRecord } from './records';

/** Simulated time an endpoint waits for hardware, then loads the model: about 4.5 minutes in all. */
export const ENDPOINT_PENDING_MS = 30_000;
export const ENDPOINT_STARTING_MS = 240_000;

export type EndpointState = 'PENDING' | 'STARTING' | 'STARTED';

export function endpointState(e: EndpointRecord, nowMs: number): EndpointState {
  if (nowMs < e.createdAtMs + ENDPOINT_PENDING_MS) return 'PENDING';
  if (nowMs < e.createdAtMs + ENDPOINT_PENDING_MS + ENDPOINT_STARTING_MS) return 'STARTING';
  return 'STARTED';
}

export class EndpointRegistry {
  private readonly byId = new Map<string, EndpointRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly store: Store) {}

  static async open(store: Store): Promise<EndpointRegistry> {
    const reg = new EndpointRegistry(store);
    try {
      for (const e of JSON.parse(await readFile(reg.file(), 'utf8')) as EndpointRecord[]) reg.byId.set(e.id, e);
    } catch {
      // No endpoints yet (or a file never completely written: writes are temp + rename).
    }
    return reg;
  }

  private file(): string {
    return join(this.store.dir, 'together-endpoints.json');
  }

  all(): EndpointRecord[] {
    return [...this.byId.values()].sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  get(id: string): EndpointRecord | undefined {
    return this.byId.get(id);
  }

  async create(input: Omit<EndpointRecord, 'id' | 'name'>): Promise<EndpointRecord> {
    const id = `endpoint-${randomUUID()}`;
    const rec: EndpointRecord = { ...input, id, name: endpointSystemName(input.model, id) };
    this.byId.set(id, rec);
    await this.persist();
    return rec;
  }

  async delete(id: string): Promise<boolean> {
    if (!this.byId.delete(id)) return false;
    await this.persist();
    return true;
  }

  private persist(): Promise<void> {
    const text = JSON.stringify(this.all());
    const next = this.writing.then(async () => {
      const tmp = this.store.tempPath();
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.file());
    });
    // One failed write must not block the ones after it.
    this.writing = next.catch(() => undefined);
    return next;
  }
}
