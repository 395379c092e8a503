import { join } from 'node:path';
import { loadEnvironments } from '../../src/config/load';
import { renderDist } from '../../src/output';
import { renderEnvironments } from '../../src/synth';
import { ROOT } from './markdown';

let cache: { files: string[]; objects: Record<string, unknown>[] } | undefined;

function synthesize() {
  if (!cache) {
    const manifests = renderEnvironments(loadEnvironments(join(ROOT, 'environments')));
    const files = [...renderDist(manifests, { version: '0.0.0' }).keys()];
    // Folders count as files too, so `dist/helm/email-server-<env>/` matches.
    const dirs = files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => `${parts.slice(0, i + 1).join('/')}/`));
    cache = { files: [...new Set([...files, ...dirs])].sort(), objects: manifests.flatMap((m) => [...m.objects]) };
  }
  return cache;
}

/** Relative paths under dist/ that `npm run synth` writes for the committed environments. */
export function distFiles(): string[] {
  return synthesize().files;
}

/** Every synthesized object of every environment. */
export function synthesizedObjects(): Record<string, unknown>[] {
  return synthesize().objects;
}
