import type { EnvironmentConfig } from '../config/schema';
export function dashboardUid(env: EnvironmentConfig): string { return `email-server-${env.name}`; }
export function renderDashboard(env: EnvironmentConfig): Record<string, unknown> { return { uid: dashboardUid(env) }; }
