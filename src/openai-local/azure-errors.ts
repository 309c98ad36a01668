// Azure's refusals in its own words: the data plane's AzureErrorResponse and ARM's ErrorResponse, both { error: { code, message } }.
import { ApiError } from './errors';

const azure = (status: number, code: string, message: string, param: string | null = null, headers: Record<string, string> = {}): ApiError =>
  new ApiError(status, message, 'error', param, code, headers);

/** The data plane's answer to a missing or revoked key (Azure puts the status in `code`). */
export const azureAccessDenied = (): ApiError =>
  azure(
    401,
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  );

/** Chat naming a deployment that does not exist (or is not provisioned yet). */
export const deploymentNotFound = (): ApiError =>
  azure(
    404,
    'DeploymentNotFound',
    'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
  );

/** Fine-tuning refused to a caller without the role (the data plane's RBAC answer). */
export const azurePermissionDenied = (): ApiError => azure(403, 'PermissionDenied', 'Principal does not have access to API/Operation.');

export const azureBadRequest = (message: string, param: string | null = null): ApiError => azure(400, 'BadRequest', message, param);

export const azureResourceNotFound = (): ApiError => azure(404, '404', 'Resource not found');

// ---- ARM (management plane) ----

export const armAuthMissing = (): ApiError => azure(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");

export const armAuthMalformed = (): ApiError =>
  azure(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.");

export const armMissingApiVersion = (): ApiError =>
  azure(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');

export const armInvalidApiVersion = (given: string, supported: readonly string[]): ApiError =>
  azure(400, 'InvalidApiVersionParameter', `The api-version '${given}' is invalid. The supported versions are '${supported.join(',')}'.`);

export const armSubscriptionNotFound = (subscriptionId: string): ApiError =>
  azure(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);

export const armAccountNotFound = (account: string, resourceGroup: string): ApiError =>
  azure(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.CognitiveServices/accounts/${account}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );

export const armDeploymentNotFound = (name: string): ApiError => azure(404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);

export const armInvalidName = (name: string): ApiError =>
  azure(
    400,
    'InvalidResourceName',
    `Resource name '${name}' is invalid. A deployment name is 2 to 64 characters: letters, digits, '-', '_' and '.', starting with a letter or digit.`,
  );

export const armInvalidProperties = (message: string, target: string): ApiError => azure(400, 'InvalidResourceProperties', message, target);

export const armModelNotSupported = (format: string, name: string, version: string): ApiError =>
  azure(400, 'DeploymentModelNotSupported', `The model '${format}/${name}/${version}' is not supported. Use a model this account has fine-tuned, or a base model.`, 'properties.model');

/** PUT while the deployment is still provisioning or being deleted (ARM's answer for a non-terminal state). */
export const armConflict = (id: string): ApiError =>
  azure(
    409,
    'RequestConflict',
    `Cannot modify resource with id '${id}' because the resource entity provisioning state is not terminal. Please wait for the provisioning state to become terminal and then retry the request.`,
  );

/** The caller lacks `Microsoft.CognitiveServices/accounts/deployments/write` (ARM's RBAC answer). */
export const armAuthorizationFailed = (scope: string): ApiError =>
  azure(
    403,
    'AuthorizationFailed',
    "The client 'tuneflow-local' with object id '00000000-0000-0000-0000-000000000001' does not have authorization to perform action " +
      `'Microsoft.CognitiveServices/accounts/deployments/write' over scope '${scope}' or the scope is invalid. ` +
      'If access was recently granted, please refresh your credentials.',
  );

/** No capacity left in the model's quota for this SKU (ARM answers 400). */
export const armInsufficientQuota = (capacity: number, model: string, sku: string): ApiError => {
  const quota = `Tokens Per Minute (thousands) - ${model} - ${sku}`;
  return azure(
    400,
    'InsufficientQuota',
    `This operation require ${capacity} new capacity in quota ${quota}, which is bigger than the current available capacity 0. ` +
      `The current quota usage is 0 and the quota limit is 0 for quota ${quota}.`,
  );
};
