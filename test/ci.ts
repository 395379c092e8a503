/**
 * Whether the tests run in CI, where a missing tool is a failure rather than a loud skip. Any
 * non-empty CI value counts except "false" and "0": CI systems set CI=true, CI=1 or their own
 * name, and a developer switches it off with CI=false. Every check of CI goes through here.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}
