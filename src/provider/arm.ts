// A small client for the one ARM resource tuneflow manages: model deployments of an Azure OpenAI account.

/** The stable Microsoft.CognitiveServices api-version the deployments calls use (the copied spec's). */
export const ARM_DEPLOYMENTS_API_VERSION = '2026-09-01';

export interface ArmDeploymentsTarget {
  /** ARM's origin, e.g. https://management.azure.com. */
  endpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  account: string;
}

/** The fields of ARM's Deployment resource tuneflow reads. */
export interface ArmDeployment {
  name: string;
  sku?: { name: string; capacity?: number };
  tags?: Record<string, string>;
  properties?: {
    provisioningState?: string;
    model?: { format?: string; name?: string; version?: string };
  };
}

export interface ArmDeploymentBody {
  sku: { name: string; capacity: number };
  tags: Record<string, string>;
  properties: { model: { format: 'OpenAI'; name: string; version: string } };
}

/** ARM answered with an error (or could not be reached: status undefined). Classified by the adapter. */
export class ArmRequestError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: string | undefined,
    message: string,
    readonly headers: Headers | undefined,
  ) {
    super(message);
    this.name = 'ArmRequestError';
  }
}

export interface ArmClientOptions {
  /** A bearer token for ARM, fetched per request (credentials cache and refresh it themselves). */
  token: () => Promise<string>;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/** Deployments of one account: GET, PUT, DELETE and list, each one HTTP call, no retries (Temporal owns those). */
export class ArmDeployments {
  private readonly fetch: typeof fetch;

  constructor(
    private readonly target: ArmDeploymentsTarget,
    private readonly opts: ArmClientOptions,
  ) {
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /** The deployments collection's URL, or one deployment's. */
  url(name?: string): string {
    const t = this.target;
    const base =
      `${t.endpoint.replace(/\/+$/, '')}/subscriptions/${encodeURIComponent(t.subscriptionId)}/resourceGroups/${encodeURIComponent(t.resourceGroup)}` +
      `/providers/Microsoft.CognitiveServices/accounts/${encodeURIComponent(t.account)}/deployments`;
    return `${name === undefined ? base : `${base}/${encodeURIComponent(name)}`}?api-version=${ARM_DEPLOYMENTS_API_VERSION}`;
  }

  /** The deployment, or null when there is none under that name. */
  async get(name: string): Promise<ArmDeployment | null> {
    const res = await this.call('GET', this.url(name), [200, 404]);
    return res.status === 404 ? null : ((await res.json()) as ArmDeployment);
  }

  /** Creates (201, provisioning starts) or updates (200) the deployment. */
  async put(name: string, body: ArmDeploymentBody): Promise<{ deployment: ArmDeployment; created: boolean }> {
    const res = await this.call('PUT', this.url(name), [200, 201], body);
    return { deployment: (await res.json()) as ArmDeployment, created: res.status === 201 };
  }

  /** 200: deleted; 202: deletion accepted; 204 (or 404): there was nothing to delete. */
  async delete(name: string): Promise<'deleted' | 'deleting' | 'missing'> {
    const res = await this.call('DELETE', this.url(name), [200, 202, 204, 404]);
    await res.body?.cancel();
    return res.status === 200 ? 'deleted' : res.status === 202 ? 'deleting' : 'missing';
  }

  /** Every deployment of the account, following nextLink. */
  async list(): Promise<ArmDeployment[]> {
    const out: ArmDeployment[] = [];
    let next: string | undefined = this.url();
    while (next) {
      const page = (await (await this.call('GET', next, [200])).json()) as { value?: ArmDeployment[]; nextLink?: string };
      out.push(...(page.value ?? []));
      next = page.nextLink || undefined;
    }
    return out;
  }

  private async call(method: string, url: string, ok: number[], body?: unknown): Promise<Response> {
    // A credential that cannot give a token is the caller's to classify (it needs a person, not a retry).
    const token = await this.opts.token();
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw new ArmRequestError(undefined, undefined, err instanceof Error ? err.message : String(err), undefined);
    }
    if (ok.includes(res.status)) return res;
    const text = await res.text();
    let code: string | undefined;
    let message = text.slice(0, 500) || res.statusText;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (typeof parsed.error?.code === 'string') code = parsed.error.code;
      if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    } catch {
      // Not ARM's JSON envelope (a proxy's page, say): the text is the message.
    }
    throw new ArmRequestError(res.status, code, message, res.headers);
  }
}
