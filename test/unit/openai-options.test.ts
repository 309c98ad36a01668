import { describe, expect, it } from 'vitest';
import { openAIOptionProblems } from '../../src/provider/openai';

describe('openAIOptionProblems', () => {
  it('names each option OpenAI lacks (absolute learning rate, LoRA, Together counts, batch_size "max") and passes its own', () => {
    expect(openAIOptionProblems({ hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 0.5 } })).toEqual([]);
    expect(openAIOptionProblems({ hyperparameters: { learning_rate: 1e-5, lora: true, n_evals: 2, batch_size: 'max' } })).toEqual([
      'hyperparameters.learning_rate: OpenAI takes learning_rate_multiplier (relative to its own rate), not an absolute learning_rate',
      'hyperparameters.lora: OpenAI trains the whole model; it has no LoRA option',
      'hyperparameters.n_evals: OpenAI evaluates on the validation file by itself; it has no n_evals option',
      'hyperparameters.batch_size: OpenAI takes a number or "auto", not "max"',
    ]);
  });
});
