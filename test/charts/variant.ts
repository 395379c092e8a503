import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';

type Json = Record<string, any>;

/** Deep merge of plain objects; arrays and scalars of `patch` replace those of `base`. */
export function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? merge(base[k], v) : v;
  }
  return out;
}

/** A shipped environment file with `patch` merged in, validated as `environments/<name>.yaml` would be. */
export function variant(name: 'dev' | 'staging' | 'prod', patch: Json): EnvironmentConfig {
  const data = parse(readFileSync(join(__dirname, '../../environments', `${name}.yaml`), 'utf8')) as Json;
  return parseEnvironment(merge(data, patch), `environments/${name}.yaml`, name);
}
