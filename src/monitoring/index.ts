export {
  ALERTS,
  renderRuleGroups,
  runbookAnchor,
  runbookUrl,
  type AlertRule,
  type AlertSummary,
  type RuleGroup,
  type Severity,
} from './rules';
export { dashboardUid, renderDashboard } from './dashboard';
export { METRICS, POD_NAME_REGEX, TARGETS, type MetricInfo, type MetricKey, type MetricSource } from './metrics';
