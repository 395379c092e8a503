import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile, parseEnvironment } from '../../src/config/load';
import { EXPORTER_IMAGE, RELAY_IMAGE } from '../../src/config/images';

// Issue 12: every pinned image is a release that exists upstream. A cluster pulling a tag that was
// never published gets ImagePullBackOff on its first deploy (the old default, 1.9.0, was one).
//
// The recorded releases, and where they come from (checked 2026-12-06):
// - juanluisbaptiste/postfix: the git tags v1.0.0 ... v1.8.2 of github.com/juanluisbaptiste/docker-postfix
//   (`git tag`; v1.8.2 = 2026-01-28, commit b18e69b, Dockerfile `FROM alpine:3.23`). Its release
//   workflow (.github/workflows/release.yml, on: release published) pushes Docker Hub tags
//   X.Y.Z, X.Y and X without the "v" (docker/metadata-action type=semver). v1.1.0-develop.1 is a
//   development tag, not a release, and is left out.
// - ghcr.io/hsn723/postfix_exporter: the git tags v0.13.0 ... v0.20.4 of github.com/Hsn723/postfix_exporter
//   (v0.16.1 = 2025-09-19, commit 8310eb8; v0.20.4 = 2026-07-21). Its .goreleaser.yml pushes
//   ghcr.io/hsn723/postfix_exporter:{{.Version}} (no "v") and :{{.Major}}.{{.Minor}}; the helm-v*
//   tags are its Helm chart's, not images.
// Add a release here only after seeing it upstream, with the date you checked.
const RELEASES: Readonly<Record<string, readonly string[]>> = {
  'juanluisbaptiste/postfix': [
    '1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.5.1', '1.6.0', '1.7.0', '1.7.1', '1.7.2', '1.7.3', '1.8.0', '1.8.1', '1.8.2',
  ],
  'ghcr.io/hsn723/postfix_exporter': [
    '0.13.0', '0.14.0', '0.15.0', '0.16.0', '0.16.1', '0.17.0', '0.18.0', '0.19.0', '0.20.0', '0.20.2', '0.20.3', '0.20.4',
  ],
};

/** An exact recorded release X.Y.Z (the X.Y and X aliases move with later releases: not pins). */
function isRecordedRelease(repository: string, tag: string): boolean {
  return (RELEASES[repository] ?? []).includes(tag);
}

const ENV_FILES = readdirSync('environments').filter((f) => f.endsWith('.yaml'));
/** An environment that sets only what has no default: every image field is the default. */
const minimal = () =>
  parseEnvironment({ namespace: 'pins', mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] } }, 'environments/pins.yaml');

describe('image pins', () => {
  it('the default relay image is the newest recorded release of juanluisbaptiste/postfix', () => {
    const defaults = minimal().image;
    expect(defaults).toMatchObject({ repository: RELAY_IMAGE.repository, tag: RELAY_IMAGE.tag });
    expect(isRecordedRelease(defaults.repository, defaults.tag), `${defaults.repository}:${defaults.tag}`).toBe(true);
    expect(defaults.tag).toBe(RELEASES[RELAY_IMAGE.repository]!.at(-1));
  });

  it('the default exporter image is a recorded release of Hsn723/postfix_exporter', () => {
    const { metrics } = minimal();
    expect(metrics.image).toMatchObject({ repository: EXPORTER_IMAGE.repository, tag: EXPORTER_IMAGE.tag });
    expect(isRecordedRelease(metrics.image.repository, metrics.image.tag), `${metrics.image.repository}:${metrics.image.tag}`).toBe(true);
  });

  it('refuses what is not a recorded release (the old default 1.9.0, a v-prefixed git tag, latest)', () => {
    for (const tag of ['1.9.0', 'v1.8.2', 'latest', '1.1.0-develop.1']) expect(isRecordedRelease('juanluisbaptiste/postfix', tag)).toBe(false);
    expect(isRecordedRelease('ghcr.io/hsn723/postfix_exporter', '0.20.1')).toBe(false);
    expect(isRecordedRelease('docker.io/boky/postfix', '1.8.2')).toBe(false);
  });

  it.each(ENV_FILES)('environments/%s pins both images to recorded releases', (file) => {
    const env = loadEnvironmentFile(join('environments', file));
    for (const image of [env.image, env.metrics.image]) {
      expect(Object.keys(RELEASES), `environments/${file}: ${image.repository} has no recorded releases`).toContain(image.repository);
      expect(isRecordedRelease(image.repository, image.tag), `environments/${file}: ${image.repository}:${image.tag} is not a recorded upstream release`).toBe(true);
    }
  });
});
