/**
 * `npm run schema`: writes schema/pipeline-input.schema.json, the JSON Schema of the pipeline input, from
 * the zod schema the starter checks input with (`PipelineInputSchema`). A test fails when the committed
 * file and this generator's output differ.
 *
 * The schema describes what a caller sends (zod's input side): optional fields stay optional and show
 * their default, the way the starter fills them in.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PipelineInputSchema } from '../src/domain/pipeline';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/pipeline-input.schema.json', import.meta.url));

export function pipelineInputJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(PipelineInputSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'urn:tuneflow:pipeline-input',
    title: 'tuneflow pipeline input',
    description:
      'The one argument of the workflow fineTunePipeline (task queue tuneflow unless TEMPORAL_TASK_QUEUE says otherwise). ' +
      'datasetPath is a path as the worker sees it (inside TUNEFLOW_DATA_ROOTS) or an s3:// URI. Generated from PipelineInputSchema in src/domain/pipeline.ts by `npm run schema`.',
    ...rest,
  };
}

export function schemaFileText(): string {
  return `${JSON.stringify(pipelineInputJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(SCHEMA_FILE, schemaFileText());
  process.stderr.write(`wrote ${SCHEMA_FILE}\n`);
}
