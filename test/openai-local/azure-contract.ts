// Contracts of the azure dialect: the v1 data plane (OpenAPI 3.0) and ARM deployments (Swagger 2.0).
import { Contract, type ContractLog, contractFetch, type JsonObject, loadSpec, openApi3Source, patchKnownSpecGaps, swagger2Source } from './openapi-contract';

const SPECS = process.env.TUNEFLOW_PROVIDER_SPECS ?? '/work/shared/provider-specs';
export const AZURE_DATA_PLANE_SPEC = `${SPECS}/azure-openai/data-plane/openai-v1/azure-v1-v1-generated.yaml`;
export const ARM_SPEC = `${SPECS}/azure-openai/resource-manager/cognitiveservices.2026-09-01.json`;

const COMMON_TYPES_REF = '../../../../../../common-types/resource-management/v3/types.json#/definitions/';

/**
 * The parts of ARM's common-types v3 (specification/common-types/resource-management/v3/types.json) the
 * deployments spec refers to; that file is not among the copied specs, so its definitions are written out
 * here (descriptions and x- extensions left out).
 */
const ARM_COMMON_TYPES: JsonObject = {
  ErrorAdditionalInfo: { type: 'object', properties: { type: { type: 'string' }, info: { type: 'object' } } },
  ErrorDetail: {
    type: 'object',
    properties: {
      code: { type: 'string' },
      message: { type: 'string' },
      target: { type: 'string' },
      details: { type: 'array', items: { $ref: 'arm-common#/$defs/ErrorDetail' } },
      additionalInfo: { type: 'array', items: { $ref: 'arm-common#/$defs/ErrorAdditionalInfo' } },
    },
  },
  ErrorResponse: { type: 'object', properties: { error: { $ref: 'arm-common#/$defs/ErrorDetail' } } },
  createdByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
  SystemData: {
    type: 'object',
    properties: {
      createdBy: { type: 'string' },
      createdByType: { $ref: 'arm-common#/$defs/createdByType' },
      createdAt: { type: 'string', format: 'date-time' },
      lastModifiedBy: { type: 'string' },
      lastModifiedByType: { $ref: 'arm-common#/$defs/createdByType' },
      lastModifiedAt: { type: 'string', format: 'date-time' },
    },
  },
  Resource: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, systemData: { $ref: 'arm-common#/$defs/SystemData' } },
  },
  ProxyResource: { type: 'object', allOf: [{ $ref: 'arm-common#/$defs/Resource' }] },
  OperationStatusResult: {
    type: 'object',
    required: ['status'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      status: { type: 'string' },
      percentComplete: { type: 'number', minimum: 0, maximum: 100 },
      startTime: { type: 'string', format: 'date-time' },
      endTime: { type: 'string', format: 'date-time' },
      operations: { type: 'array', items: { $ref: 'arm-common#/$defs/OperationStatusResult' } },
      error: { $ref: 'arm-common#/$defs/ErrorDetail' },
    },
  },
};

/** The status monitor ARM's LRO headers point at; ARM serves it beside the provider's paths, so the RP spec lacks it. */
const OPERATION_STATUS_PATH = '/subscriptions/{subscriptionId}/providers/Microsoft.CognitiveServices/locations/{location}/operationStatuses/{operationId}';

let dataPlane: Contract | undefined;
let arm: Contract | undefined;

/** The v1 data plane; FineTuningJob.status widened by 'paused' as for OpenAI (pause exists, the enum lacks it). */
export function azureDataPlaneContract(): Contract {
  if (!dataPlane) {
    const source = openApi3Source(loadSpec(AZURE_DATA_PLANE_SPEC), 'azure-v1-spec', /^\/openai\/v1/);
    patchKnownSpecGaps(source.defs, 'OpenAI.FineTuningJob');
    dataPlane = new Contract(source);
  }
  return dataPlane;
}

export function armContract(): Contract {
  if (!arm) {
    const rewrite = (ref: string): string =>
      ref.startsWith(COMMON_TYPES_REF) ? `arm-common#/$defs/${ref.slice(COMMON_TYPES_REF.length)}` : ref.replace('#/definitions/', 'arm-spec#/$defs/');
    const source = swagger2Source(loadSpec(ARM_SPEC), 'arm-spec', rewrite, [{ $id: 'arm-common', $defs: ARM_COMMON_TYPES }]);
    source.operations.push({
      operationId: 'OperationStatuses_Get',
      method: 'GET',
      path: OPERATION_STATUS_PATH,
      pattern: new RegExp(`^${OPERATION_STATUS_PATH.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      responses: { '200': { $ref: 'arm-common#/$defs/OperationStatusResult' }, default: { $ref: 'arm-common#/$defs/ErrorResponse' } },
    });
    arm = new Contract(source);
  }
  return arm;
}

/** Picks the contract by path: ARM under /subscriptions, the data plane otherwise. */
export function azureContractFor(pathname: string): Contract {
  return pathname.startsWith('/subscriptions/') ? armContract() : azureDataPlaneContract();
}

/** A fetch (for the openai SDK and the ARM client alike) that checks every azure-dialect answer against its spec. */
export function azureContractFetch(log: ContractLog): typeof fetch {
  return contractFetch(log, azureContractFor);
}
