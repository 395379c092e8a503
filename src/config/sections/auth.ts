import { z } from 'zod';

/**
 * `relay.auth`: SMTP AUTH to the upstream relay, for Workspace's "Require SMTP Authentication"
 * (clusters without stable, registered egress IPs). The credentials stay in a Secret the user
 * creates; synth only names it, so their value can never reach dist/ or the ConfigMap.
 */

const SECRET_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

const secretKey = z.string().regex(SECRET_KEY, { message: 'must be a Secret key (letters, digits, "-", "_", ".")' });

export const relayAuthSchema = z
  .object({
    secretName: z
      .string()
      .regex(SECRET_NAME, { message: 'must be a Kubernetes object name (lower-case letters, digits, "-" and ".")' })
      .describe(
        'Existing Secret in the namespace holding the relay credentials. It is mounted as a volume (never as environment variables); the entrypoint builds the SASL table from it in a memory-backed volume. A changed Secret is picked up without a restart (docs/EMAIL-SERVER-SETUP.md).',
      ),
    usernameKey: secretKey.default('username').describe('Key of the Secret that holds the user name (for Google: the full address of a Workspace user).'),
    passwordKey: secretKey.default('password').describe('Key of the Secret that holds the password (for Google: an app password of that user).'),
  })
  .strict();

export type RelayAuth = z.output<typeof relayAuthSchema>;

/** The TLS levels under which credentials may be sent: the relay's certificate is verified. */
export const AUTH_TLS_LEVELS = ['secure', 'verify'] as const;

interface AuthEnv {
  readonly relay: { readonly auth?: RelayAuth | undefined; readonly tlsSecurityLevel: string };
}

/** Cross-field checks of relay.auth; called from the schema's superRefine. */
export function checkRelayAuth(env: AuthEnv, issue: (path: (string | number)[], message: string) => void): void {
  const auth = env.relay.auth;
  if (!auth) return;
  const level = env.relay.tlsSecurityLevel;
  if (!(AUTH_TLS_LEVELS as readonly string[]).includes(level)) {
    issue(
      ['relay', 'auth'],
      `needs relay.tlsSecurityLevel "secure" or "verify" (it is "${level}"): the password would go to a relay whose certificate is not verified`,
    );
  }
  if (auth.usernameKey === auth.passwordKey) {
    issue(['relay', 'auth', 'passwordKey'], `must differ from relay.auth.usernameKey ("${auth.usernameKey}")`);
  }
}
