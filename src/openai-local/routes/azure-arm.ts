// ARM deployments of the Azure dialect: PUT (long-running, 201 + Azure-AsyncOperation), GET, list, DELETE (202/204).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  armAccountNotFound,
  armAuthorizationFailed,
  armInsufficientQuota,
  armInvalidApiVersion,
  armMissingApiVersion,
  armSubscriptionNotFound,
  armDeploymentNotFound,
} from '../azure-errors';
import type { BackendContext } from '../context';
import type { DeploymentService } from '../deployments';
import { DEPLOYMENT_DELETING_MS } from '../deployments';
import { type Query, queryString } from '../query';

/** Stable ARM api-versions of Microsoft.CognitiveServices this backend answers (the newest is the copied spec's). */
export const ARM_API_VERSIONS = ['2023-05-01', '2024-10-01', '2025-06-01', '2025-12-01', '2026-09-01'] as const;

const ACCOUNT_PATH = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.CognitiveServices/accounts/:accountName';
const OPERATIONS_PATH = '/subscriptions/:subscriptionId/providers/Microsoft.CognitiveServices/locations/local/operationStatuses/:operationId';

type AccountParams = { subscriptionId: string; resourceGroupName: string; accountName: string };
type DeploymentParams = AccountParams & { deploymentName: string };

export function registerArmRoutes(app: FastifyInstance, ctx: BackendContext, deployments: DeploymentService): void {
  const arm = (operationId: string) => ({ config: { operationId, plane: 'arm' as const } });

  /** api-version and the account in the path, checked as ARM checks them, before the resource provider sees the call. */
  function checkRequest(request: FastifyRequest<{ Params: Partial<AccountParams> }>): string {
    const version = queryString(request.query as Query, 'api-version');
    if (version === undefined || version === '') throw armMissingApiVersion();
    if (!(ARM_API_VERSIONS as readonly string[]).includes(version)) throw armInvalidApiVersion(version, ARM_API_VERSIONS);
    const { subscriptionId, resourceGroupName, accountName } = request.params;
    const account = deployments.account;
    if (subscriptionId !== account.subscriptionId) throw armSubscriptionNotFound(subscriptionId ?? '');
    if (resourceGroupName !== undefined && (resourceGroupName.toLowerCase() !== account.resourceGroup.toLowerCase() || accountName?.toLowerCase() !== account.account.toLowerCase())) {
      throw armAccountNotFound(accountName ?? '', resourceGroupName);
    }
    return version;
  }

  const origin = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;
  const operationUrl = (request: FastifyRequest, kind: 'create' | 'delete', name: string, version: string): string =>
    `${origin(request)}/subscriptions/${deployments.account.subscriptionId}/providers/Microsoft.CognitiveServices/locations/local/operationStatuses/${kind}.${encodeURIComponent(name)}?api-version=${version}`;
  const retryAfter = (reply: FastifyReply, simMs: number): void => {
    // Real seconds until the simulated clock gets there, at least one (ARM sends whole seconds).
    void reply.header('Retry-After', String(Math.max(1, Math.ceil(ctx.clock.realDelayUntil(ctx.clock.nowMs() + simMs) / 1000))));
  };

  app.get<{ Params: AccountParams }>(`${ACCOUNT_PATH}/deployments`, arm('Deployments_List'), async (request) => {
    checkRequest(request);
    return { value: (await deployments.list()).map((d) => deployments.toApi(d)) };
  });

  app.get<{ Params: DeploymentParams }>(`${ACCOUNT_PATH}/deployments/:deploymentName`, arm('Deployments_Get'), async (request) => {
    checkRequest(request);
    const rec = await deployments.get(request.params.deploymentName);
    if (!rec) throw armDeploymentNotFound(request.params.deploymentName);
    return deployments.toApi(rec);
  });

  app.put<{ Params: DeploymentParams }>(`${ACCOUNT_PATH}/deployments/:deploymentName`, arm('Deployments_CreateOrUpdate'), async (request, reply) => {
    const version = checkRequest(request);
    const name = request.params.deploymentName;
    const req = deployments.parse(name, request.body);
    if (!(await deployments.get(name))) {
      if (ctx.settings.refuseDeployments === 'forbidden') {
        ctx.stats.deployments.refused += 1;
        throw armAuthorizationFailed(deployments.resourceId(name));
      }
      if (ctx.settings.refuseDeployments === 'quota') {
        ctx.stats.deployments.refused += 1;
        const base = ctx.chat.resolve(req.model.name);
        throw armInsufficientQuota(req.sku.capacity, base.kind === 'tuned' ? base.job.model : base.id, req.sku.name);
      }
    }
    const { rec, created } = await deployments.createOrUpdate(name, req);
    if (!created) return deployments.toApi(rec);
    void reply.header('Azure-AsyncOperation', operationUrl(request, 'create', name, version));
    retryAfter(reply, Math.min(ctx.settings.deploymentSeconds * 1000, 60_000));
    return reply.status(201).send(deployments.toApi(rec));
  });

  app.delete<{ Params: DeploymentParams }>(`${ACCOUNT_PATH}/deployments/:deploymentName`, arm('Deployments_Delete'), async (request, reply) => {
    const version = checkRequest(request);
    const name = request.params.deploymentName;
    // The spec's answer for a deployment that does not exist is 204, not 404.
    if ((await deployments.delete(name)) === 'missing') return reply.status(204).send();
    const url = operationUrl(request, 'delete', name, version);
    void reply.header('location', url);
    void reply.header('Azure-AsyncOperation', url);
    retryAfter(reply, DEPLOYMENT_DELETING_MS);
    return reply.status(202).send();
  });

  // The status monitor the LRO headers point at (ARM's common OperationStatusResult shape).
  app.get<{ Params: { subscriptionId: string; operationId: string } }>(OPERATIONS_PATH, arm('OperationStatuses_Get'), async (request) => {
    checkRequest(request);
    const [kind, ...rest] = request.params.operationId.split('.');
    const name = decodeURIComponent(rest.join('.'));
    const rec = await deployments.get(name);
    const state = rec ? deployments.stateOf(rec, ctx.clock.nowMs()) : null;
    const done = kind === 'delete' ? state === null : state === 'Succeeded';
    if (kind === 'create' && !rec) return { id: request.url.split('?')[0], name: request.params.operationId, status: 'Canceled' };
    return { id: request.url.split('?')[0], name: request.params.operationId, status: done ? 'Succeeded' : 'InProgress' };
  });
}
