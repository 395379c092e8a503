export {
  ALERTS,
  isAlertRule,
  renderRuleGroups,
  runbookAnchor,
  runbookUrl,
  type AlertRule,
  type AlertSummary,
  type RecordingRule,
  type Rule,
  type RuleGroup,
  type Severity,
} from './rules';
export { dashboardUid, renderDashboard } from './dashboard';
export { METRICS, POD_NAME_REGEX, TARGETS, type MetricInfo, type MetricKey, type MetricSource } from './metrics';
export { probeModuleName, probeTarget, renderBlackboxConfig, renderBlackboxModule, type BlackboxModule } from './blackbox';
export { enabledSlos, renderSloGroups, SLO_ALERTS, SLO_SERIES, sloAlertName, type SloKey } from './slo';
