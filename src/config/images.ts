/**
 * The default images, and where each pin comes from (checked 2026-12-06 in the upstream
 * repositories' git tags, Dockerfiles and release workflows; test/config/image-pins.test.ts keeps
 * the pins on the recorded lists of upstream releases). The text below is the documentation of
 * `image` and `metrics.image` in docs/CONFIG-REFERENCE.md (npm run docs).
 */

/** juanluisbaptiste/postfix: release v1.8.2, the newest upstream release. */
export const RELAY_IMAGE = { repository: 'juanluisbaptiste/postfix', tag: '1.8.2' } as const;

/** Hsn723's postfix_exporter: release v0.16.1 (every metric the rules and the dashboard use exists in it). */
export const EXPORTER_IMAGE = { repository: 'ghcr.io/hsn723/postfix_exporter', tag: '0.16.1' } as const;

const digestHowTo = (image: string) =>
  `To pin the exact image, also set \`digest\` to the sha256 digest the registry reports for that tag (\`docker buildx imagetools inspect ${image}\` or \`crane digest ${image}\`, from a machine that can reach the registry): the pod then runs \`${image}@sha256:...\`, which no re-pushed tag can change.`;

export const RELAY_IMAGE_PROVENANCE = [
  `The default \`${RELAY_IMAGE.repository}:${RELAY_IMAGE.tag}\` is upstream release v${RELAY_IMAGE.tag} of github.com/juanluisbaptiste/docker-postfix (tag v1.8.2, 2026-01-28, commit b18e69b, the newest release):`,
  'its Dockerfile is `FROM alpine:3.23`, whose `postfix` package is Postfix 3.10.x, the generation every real-Postfix test also runs on (docs/TESTING.md).',
  "The project's release workflow (.github/workflows/release.yml) pushes the Docker Hub tags `X.Y.Z`, `X.Y` and `X` (no `v`) only for a published GitHub release: there is no `1.9.0`.",
  digestHowTo(`${RELAY_IMAGE.repository}:${RELAY_IMAGE.tag}`),
].join(' ');

export const EXPORTER_IMAGE_PROVENANCE = [
  `The default \`${EXPORTER_IMAGE.repository}:${EXPORTER_IMAGE.tag}\` is upstream release v${EXPORTER_IMAGE.tag} of github.com/Hsn723/postfix_exporter (2025-09-19, commit 8310eb8):`,
  'a static binary in an image `FROM scratch` (no shell), pushed by its goreleaser configuration as `X.Y.Z` and `X.Y`.',
  'Every metric the alert rules and the dashboard read exists in that release. Newer releases exist (up to 0.20.4, 2026-07-21); moving to one means checking those metrics and the command-line flags again.',
  digestHowTo(`${EXPORTER_IMAGE.repository}:${EXPORTER_IMAGE.tag}`),
].join(' ');
