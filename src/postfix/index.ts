import type { EnvironmentConfig } from '../config/schema';
import { CONFIG_FILES } from './layout';
import { renderEntrypoint } from './entrypoint';
import { renderMainCf } from './main-cf';
import { renderMasterCf } from './master-cf';

export { POSTFIX_CAPABILITIES } from './capabilities';
export { LOG_ROTATE_CHECK_SECONDS, MONITOR_GID, renderEntrypoint } from './entrypoint';
export { formatMainCf, mainCfEntries, overrideMainCf, postfixDuration, renderMainCf, type MainCfEntry } from './main-cf';
export { formatMasterCf, masterCfServices, renderMasterCf, type MasterCfService } from './master-cf';

/** The files this module renders for the `postfix-config` ConfigMap (drain.sh comes from drain.ts). */
export type PostfixFiles = {
  readonly [CONFIG_FILES.mainCf]: string;
  readonly [CONFIG_FILES.masterCf]: string;
  readonly [CONFIG_FILES.entrypoint]: string;
};

export function renderPostfixFiles(env: EnvironmentConfig): PostfixFiles {
  return {
    [CONFIG_FILES.mainCf]: renderMainCf(env),
    [CONFIG_FILES.masterCf]: renderMasterCf(env),
    [CONFIG_FILES.entrypoint]: renderEntrypoint(env),
  };
}
