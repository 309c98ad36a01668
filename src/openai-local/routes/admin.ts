// /_admin: stats and runtime settings for tests and `tuneflow dev`; no auth, never rate-limited or faulted.
import type { FastifyInstance } from 'fastify';
import type { BackendContext } from '../context';
import { badRequest } from '../errors';
import { DEPLOYMENT_REFUSALS, type DeploymentRefusal } from '../settings';

export function registerAdminRoutes(app: FastifyInstance, ctx: BackendContext): void {
  const settingsView = (): Record<string, unknown> => ({ ...ctx.settings, latencyOperations: [...ctx.settings.latencyOperations] });

  app.get('/_admin/stats', async () => {
    const snapshot = { ...ctx.stats.snapshot(), webhooks: { ...ctx.stats.webhooks, recent: ctx.webhooks?.recentDeliveries() ?? [] } };
    if (!ctx.deployments) return { ...snapshot, settings: settingsView() };
    await ctx.deployments.tick();
    // live: exist (and bill); deleting: DELETE accepted, not gone yet.
    return { ...snapshot, deployments: { ...ctx.deployments.counts(), ...ctx.stats.deployments }, settings: settingsView() };
  });

  app.post('/_admin/settings', async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { rpm, tpm, faultRate, failJobs, refuseFineTuning, revokedKeys, outage, latencyMs, latencyOperations } = body;
    if (rpm !== undefined && (typeof rpm !== 'number' || !Number.isFinite(rpm) || rpm < 0)) throw badRequest('rpm must be a number >= 0', 'rpm');
    if (tpm !== undefined && (typeof tpm !== 'number' || !Number.isFinite(tpm) || tpm < 0)) throw badRequest('tpm must be a number >= 0', 'tpm');
    if (faultRate !== undefined && (typeof faultRate !== 'number' || faultRate < 0 || faultRate > 1)) throw badRequest('faultRate must be within 0..1', 'faultRate');
    if (failJobs !== undefined && typeof failJobs !== 'boolean') throw badRequest('failJobs must be a boolean', 'failJobs');
    if (refuseFineTuning !== undefined && typeof refuseFineTuning !== 'boolean') throw badRequest('refuseFineTuning must be a boolean', 'refuseFineTuning');
    if (revokedKeys !== undefined && typeof revokedKeys !== 'boolean') throw badRequest('revokedKeys must be a boolean', 'revokedKeys');
    if (outage !== undefined && typeof outage !== 'boolean') throw badRequest('outage must be a boolean', 'outage');
    if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0)) throw badRequest('latencyMs must be a number >= 0', 'latencyMs');
    if (latencyOperations !== undefined && !isOperationList(latencyOperations)) throw badRequest('latencyOperations must be an array of operationIds', 'latencyOperations');
    const { uploadBytesPerSecond, refuseDeployments, deploymentSeconds } = body;
    if (refuseDeployments !== undefined && !DEPLOYMENT_REFUSALS.includes(refuseDeployments as DeploymentRefusal)) {
      throw badRequest(`refuseDeployments must be one of ${DEPLOYMENT_REFUSALS.join(', ')}`, 'refuseDeployments');
    }
    if (deploymentSeconds !== undefined && (typeof deploymentSeconds !== 'number' || !Number.isFinite(deploymentSeconds) || deploymentSeconds < 0)) {
      throw badRequest('deploymentSeconds must be a number >= 0', 'deploymentSeconds');
    }
    if (uploadBytesPerSecond !== undefined && (typeof uploadBytesPerSecond !== 'number' || !Number.isFinite(uploadBytesPerSecond) || uploadBytesPerSecond < 0)) {
      throw badRequest('uploadBytesPerSecond must be a number >= 0', 'uploadBytesPerSecond');
    }
    if (typeof rpm === 'number') {
      ctx.settings.rpm = rpm;
      ctx.limiter.setRpm(rpm);
    }
    if (typeof tpm === 'number') {
      ctx.settings.tpm = tpm;
      ctx.tokenLimiter.setTpm(tpm);
    }
    if (typeof faultRate === 'number') ctx.settings.faultRate = faultRate;
    if (typeof refuseFineTuning === 'boolean') ctx.settings.refuseFineTuning = refuseFineTuning;
    if (typeof outage === 'boolean') ctx.settings.outage = outage;
    if (typeof revokedKeys === 'boolean') ctx.settings.revokedKeys = revokedKeys;
    if (typeof latencyMs === 'number') ctx.settings.latencyMs = latencyMs;
    if (isOperationList(latencyOperations)) ctx.settings.latencyOperations = [...latencyOperations];
    if (typeof uploadBytesPerSecond === 'number') ctx.settings.uploadBytesPerSecond = uploadBytesPerSecond;
    if (refuseDeployments !== undefined) ctx.settings.refuseDeployments = refuseDeployments as DeploymentRefusal;
    if (typeof deploymentSeconds === 'number') ctx.settings.deploymentSeconds = deploymentSeconds;
    if (typeof failJobs === 'boolean') {
      const switchedOn = failJobs && !ctx.settings.failJobs;
      ctx.settings.failJobs = failJobs;
      if (switchedOn) await ctx.jobs.applyFailJobs();
    }
    ctx.log.info({ settings: settingsView() }, 'settings changed');
    return { settings: settingsView() };
  });

  app.post('/_admin/reset-stats', async () => {
    ctx.stats.reset();
    return { ok: true };
  });

  app.get('/_admin/health', async () => ({ ok: true, simulatedNow: ctx.clock.nowSec() }));
}

function isOperationList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0);
}
