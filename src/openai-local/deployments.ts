// ARM model deployments of the Azure dialect: created, provisioned on the simulated clock, deleted, expired.
import type { Logger } from 'pino';
import { armConflict, armInvalidName, armInvalidProperties, armModelNotSupported } from './azure-errors';
import type { ChatService } from './chat';
import type { SimClock } from './clock';
import type { RuntimeSettings } from './settings';
import type { Stats } from './stats';
import type { Store } from './store';
import type { DeploymentRecord } from './types';

export type ProvisioningState = 'Accepted' | 'Creating' | 'Succeeded' | 'Deleting';

/** Simulated time a new deployment stays Accepted before it is Creating. */
export const DEPLOYMENT_ACCEPTED_MS = 15_000;
/** Simulated time a deleted deployment stays Deleting before it is gone. */
export const DEPLOYMENT_DELETING_MS = 20_000;
/** Developer tier deployments live a fixed 24 hours. */
export const DEVELOPER_TIER_LIFETIME_MS = 24 * 3600_000;

/** SKU names as ARM spells them; requests may use any case, and the Developer tier also as 'Developer'. */
export const DEPLOYMENT_SKUS = [
  'DeveloperTier',
  'Standard',
  'GlobalStandard',
  'DataZoneStandard',
  'ProvisionedManaged',
  'GlobalProvisionedManaged',
  'DataZoneProvisionedManaged',
  'GlobalBatch',
  'DataZoneBatch',
] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/;

export interface DeploymentAccount {
  subscriptionId: string;
  resourceGroup: string;
  account: string;
}

export interface DeploymentRequest {
  sku: { name: string; capacity: number };
  model: { format: string; name: string; version: string };
  tags: Record<string, string>;
}

export class DeploymentService {
  constructor(
    readonly account: DeploymentAccount,
    private readonly store: Store,
    private readonly clock: SimClock,
    private readonly chat: ChatService,
    private readonly settings: RuntimeSettings,
    private readonly stats: Stats,
    private readonly log: Logger,
  ) {}

  /** The ARM id of a deployment (or of the account's deployments collection without a name). */
  resourceId(name?: string): string {
    const { subscriptionId, resourceGroup, account } = this.account;
    const base = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account}/deployments`;
    return name === undefined ? base : `${base}/${name}`;
  }

  /** Where a deployment stands at the simulated instant, or null when it does not exist (any more). */
  stateOf(rec: DeploymentRecord, nowMs: number): ProvisioningState | null {
    if (rec.deletingAtMs !== null) return nowMs >= rec.deletingAtMs + DEPLOYMENT_DELETING_MS ? null : 'Deleting';
    if (rec.expiresAtMs !== null && nowMs >= rec.expiresAtMs) return null;
    if (nowMs < rec.createdAtMs + DEPLOYMENT_ACCEPTED_MS) return 'Accepted';
    return nowMs < rec.readyAtMs ? 'Creating' : 'Succeeded';
  }

  /** Drops deployments that are gone (deleted or expired) and counts the expired ones. */
  async tick(): Promise<void> {
    const now = this.clock.nowMs();
    for (const rec of [...this.store.deployments.values()]) {
      if (this.stateOf(rec, now) !== null) continue;
      if (rec.deletingAtMs === null) {
        this.stats.deployments.expired += 1;
        this.log.info({ deployment: rec.name }, 'deployment reached the end of its lifetime');
      }
      await this.store.deleteDeployment(rec.name);
    }
  }

  async get(name: string): Promise<DeploymentRecord | null> {
    await this.tick();
    return this.store.deployments.get(name) ?? null;
  }

  async list(): Promise<DeploymentRecord[]> {
    await this.tick();
    return [...this.store.deployments.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Checks a PUT body the way the service does before anything is created; throws the ARM error. */
  parse(name: string, body: unknown): DeploymentRequest {
    if (!NAME.test(name)) throw armInvalidName(name);
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const sku = (b.sku ?? {}) as Record<string, unknown>;
    if (typeof sku.name !== 'string' || sku.name === '') throw armInvalidProperties("The deployment's 'sku.name' is required.", 'sku.name');
    const skuName = canonicalSku(sku.name);
    if (!skuName) throw armInvalidProperties(`The SKU '${sku.name}' is not supported. Supported SKUs: ${DEPLOYMENT_SKUS.join(', ')}.`, 'sku.name');
    const capacity = sku.capacity ?? 1;
    if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
      throw armInvalidProperties("The deployment's 'sku.capacity' must be a positive integer.", 'sku.capacity');
    }
    const model = ((b.properties ?? {}) as Record<string, unknown>).model as Record<string, unknown> | undefined;
    if (!model || typeof model.name !== 'string' || model.name === '') {
      throw armInvalidProperties("The deployment's 'properties.model.name' is required.", 'properties.model.name');
    }
    const format = typeof model.format === 'string' ? model.format : '';
    const version = typeof model.version === 'string' ? model.version : '';
    if (format !== 'OpenAI') throw armModelNotSupported(format, model.name, version);
    try {
      this.chat.resolve(model.name);
    } catch {
      throw armModelNotSupported(format, model.name, version);
    }
    const tags = b.tags ?? {};
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || !Object.values(tags).every((v) => typeof v === 'string')) {
      throw armInvalidProperties("The deployment's 'tags' must map names to strings.", 'tags');
    }
    if (Object.keys(tags).length > 50) throw armInvalidProperties('A resource takes at most 50 tags.', 'tags');
    return { sku: { name: skuName, capacity }, model: { format, name: model.name, version }, tags: tags as Record<string, string> };
  }

  /** PUT: creates the deployment (true) or updates its tags and SKU once it is provisioned (false). */
  async createOrUpdate(name: string, req: DeploymentRequest): Promise<{ rec: DeploymentRecord; created: boolean }> {
    const now = this.clock.nowMs();
    const existing = await this.get(name);
    if (existing) {
      const state = this.stateOf(existing, now);
      if (state !== 'Succeeded' || existing.model.name !== req.model.name) throw armConflict(this.resourceId(name));
      existing.tags = req.tags;
      existing.sku = req.sku;
      await this.store.putDeployment(existing);
      return { rec: existing, created: false };
    }
    const rec: DeploymentRecord = {
      name,
      seq: this.store.nextSeq(),
      model: req.model,
      sku: req.sku,
      tags: req.tags,
      createdAtMs: now,
      readyAtMs: now + Math.max(DEPLOYMENT_ACCEPTED_MS, this.settings.deploymentSeconds * 1000),
      deletingAtMs: null,
      expiresAtMs: req.sku.name === 'DeveloperTier' ? now + DEVELOPER_TIER_LIFETIME_MS : null,
    };
    await this.store.putDeployment(rec);
    this.stats.deployments.created += 1;
    this.log.info({ deployment: name, model: req.model.name, sku: req.sku.name }, 'deployment accepted');
    return { rec, created: true };
  }

  /** DELETE: 'missing' when there is nothing to delete; otherwise the deployment is Deleting for a while. */
  async delete(name: string): Promise<'deleting' | 'missing'> {
    const rec = await this.get(name);
    if (!rec) return 'missing';
    if (rec.deletingAtMs === null) {
      rec.deletingAtMs = this.clock.nowMs();
      await this.store.putDeployment(rec);
      this.stats.deployments.deleted += 1;
      this.log.info({ deployment: name }, 'deployment deleting');
    }
    return 'deleting';
  }

  /**
   * The model a chat request naming `deployment` is answered by: a provisioned deployment's model, or a
   * base model's own name (base models count as deployed under their name). Null: no such deployment.
   */
  servedModel(deployment: string): string | null {
    const rec = this.store.deployments.get(deployment);
    if (rec) return this.stateOf(rec, this.clock.nowMs()) === 'Succeeded' ? rec.model.name : null;
    try {
      return this.chat.resolve(deployment).kind === 'base' ? deployment : null;
    } catch {
      return null;
    }
  }

  /** Deployments that exist (billed until deleted) and those being deleted. */
  counts(): { live: number; deleting: number } {
    const now = this.clock.nowMs();
    let live = 0;
    let deleting = 0;
    for (const rec of this.store.deployments.values()) {
      const state = this.stateOf(rec, now);
      if (state === 'Deleting') deleting += 1;
      else if (state !== null) live += 1;
    }
    return { live, deleting };
  }

  /** The Deployment resource of the ARM API. */
  toApi(rec: DeploymentRecord): Record<string, unknown> {
    const state = this.stateOf(rec, this.clock.nowMs()) ?? 'Deleting';
    return {
      id: this.resourceId(rec.name),
      name: rec.name,
      type: 'Microsoft.CognitiveServices/accounts/deployments',
      sku: { ...rec.sku },
      ...(Object.keys(rec.tags).length > 0 ? { tags: { ...rec.tags } } : {}),
      properties: {
        model: { ...rec.model },
        provisioningState: state,
        deploymentState: 'Running',
        capabilities: { chatCompletion: 'true' },
      },
      systemData: {
        createdBy: 'tuneflow-local',
        createdByType: 'Application',
        createdAt: new Date(rec.createdAtMs).toISOString(),
        lastModifiedBy: 'tuneflow-local',
        lastModifiedByType: 'Application',
        lastModifiedAt: new Date(rec.deletingAtMs ?? rec.createdAtMs).toISOString(),
      },
    };
  }
}

/** ARM's spelling of a SKU name given in any case ('Developer' is the CLI's name for the Developer tier). */
export function canonicalSku(name: string): (typeof DEPLOYMENT_SKUS)[number] | undefined {
  const lower = name.toLowerCase();
  if (lower === 'developer') return 'DeveloperTier';
  return DEPLOYMENT_SKUS.find((s) => s.toLowerCase() === lower);
}
