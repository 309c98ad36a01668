import { describe, expect, it } from 'vitest';
import { genericModelFacts, knownModelIds, MODEL_TABLE_SOURCE, resolveModelFacts } from '../../../src/domain/dataset';

describe('model facts', () => {
  it('resolves dated snapshots with encoding, per-example limit and training price', () => {
    expect(resolveModelFacts('gpt-4o-mini-2024-07-18')).toEqual({
      ok: true,
      facts: { model: 'gpt-4o-mini-2024-07-18', requested: 'gpt-4o-mini-2024-07-18', encoding: 'o200k_base', tokenLimitPerExample: 65_536, trainingUsdPerMillionTokens: 3, known: true },
    });
    const gpt35 = resolveModelFacts('gpt-3.5-turbo-0125');
    expect(gpt35.ok && gpt35.facts).toMatchObject({ encoding: 'cl100k_base', tokenLimitPerExample: 16_385, trainingUsdPerMillionTokens: 8 });
    const nano = resolveModelFacts('gpt-4.1-nano-2025-04-14');
    expect(nano.ok && nano.facts).toMatchObject({ encoding: 'o200k_base', trainingUsdPerMillionTokens: 1.5 });
  });

  it('resolves aliases to their dated snapshot and fine-tuned ids to their base', () => {
    const alias = resolveModelFacts('gpt-4o-mini');
    expect(alias.ok && alias.facts.model).toBe('gpt-4o-mini-2024-07-18');
    const fineTuned = resolveModelFacts('ft:gpt-4.1-mini-2025-04-14:acme::abc123');
    expect(fineTuned.ok && fineTuned.facts).toMatchObject({ model: 'gpt-4.1-mini-2025-04-14', requested: 'ft:gpt-4.1-mini-2025-04-14:acme::abc123', trainingUsdPerMillionTokens: 5 });
  });

  it('returns a clear error for an unknown model instead of throwing', () => {
    const unknown = resolveModelFacts('llama-3-8b-custom');
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.error).toMatch(/Unknown model "llama-3-8b-custom".*Known models: .*gpt-4o-mini-2024-07-18/);
  });

  it('offers generic facts (o200k_base, no limit, no price) for custom provider models', () => {
    expect(genericModelFacts('my-model')).toEqual({ model: 'my-model', requested: 'my-model', encoding: 'o200k_base', tokenLimitPerExample: null, trainingUsdPerMillionTokens: null, known: false });
  });

  it('lists every table id and names the source and date of its figures', () => {
    expect(knownModelIds()).toContain('gpt-4o-2024-08-06');
    expect(knownModelIds()).toContain('gpt-3.5-turbo');
    expect(MODEL_TABLE_SOURCE).toMatch(/2025/);
  });
});
