/** The fine-tuning providers tuneflow speaks to; chosen by TUNEFLOW_PROVIDER. */
export const PROVIDER_KINDS = ['openai', 'azure', 'together'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
