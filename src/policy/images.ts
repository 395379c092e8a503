import { allContainers, str } from './objects';
import type { Finding, PolicyRule } from './types';

/** Splits `registry:5000/repo/name:tag@sha256:...` into its tag and digest. */
export function imageReference(image: string): { tag?: string; digest?: string } {
  const [nameAndTag = '', digest] = image.split('@', 2);
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.indexOf(':', lastSlash + 1);
  return {
    ...(colon >= 0 ? { tag: nameAndTag.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export const imagesPinned: PolicyRule = {
  id: 'images.pinned',
  doc: 'Outside the development tier every image names a tag or a sha256 digest, and the tag is not `latest`.',
  check: ({ env, objects }) => {
    const out: Finding[] = [];
    for (const c of allContainers(objects)) {
      const image = str(c.container.image);
      const path = `${c.path}.image`;
      if (!image) {
        out.push({ subject: c.pod.subject, path, problem: 'must name an image', value: c.container.image });
        continue;
      }
      if (env.tier === 'development') continue;
      const { tag, digest } = imageReference(image);
      if (digest !== undefined && !DIGEST.test(digest)) {
        out.push({ subject: c.pod.subject, path, problem: 'must end in a digest of the form @sha256:<64 hex digits>', value: image });
      } else if (!digest && !tag) {
        out.push({ subject: c.pod.subject, path, problem: `must pin a tag or digest in the ${env.tier} tier (an untagged image means latest)`, value: image });
      } else if (!digest && tag === 'latest') {
        out.push({ subject: c.pod.subject, path, problem: `must pin a released tag or a digest in the ${env.tier} tier, not latest`, value: image });
      }
    }
    return out;
  },
};
