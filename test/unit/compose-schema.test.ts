import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);

/** The Compose Specification's JSON schema, as the dclint package ships it (its exports do not list the file). */
function composeSchemaValidator(): ReturnType<Ajv['compile']> {
  const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // Its $schema names draft-07 by an https URL ajv does not register; the draft is ajv's default.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('docker-compose.yml against the Compose Specification', () => {
  const validate = composeSchemaValidator();
  const doc = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Record<string, unknown>> };

  it('is valid against the schema', () => {
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  it('a misspelt service key or a wrong depends_on condition is caught', () => {
    const worker = doc.services.worker ?? {};
    const misspelt = { ...doc, services: { ...doc.services, worker: { ...worker, enviroment: worker.environment } } };
    expect(validate(misspelt)).toBe(false);
    const badCondition = { ...doc, services: { ...doc.services, worker: { ...worker, depends_on: { temporal: { condition: 'service_ready' } } } } };
    expect(validate(badCondition)).toBe(false);
  });
});
