/** The Grafana dashboard's PromQL, so the observability suite can run every panel's query on Prometheus. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../core/config.js';

/** The committed dashboard. */
export const DASHBOARD_FILE = path.join(PROJECT_ROOT, 'deploy', 'grafana', 'dashboards', 'order-saga.json');

/** Panels that must show data after the order mix (the others may rightly be empty, e.g. the 5xx ratio). */
export const PANELS_WITH_DATA = [
  'Order rate by outcome',
  'Failures by reason',
  'Order duration (acceptance to terminal)',
  'Step latency p95',
  'Step failures by service',
  'Compensations run',
  'Compensation failures (stuck compensations)',
  'HTTP error rate by route and status',
  'Activity schedule-to-start latency p95 by task queue',
  'Task slots available',
] as const;

interface DashboardPanel {
  type: string;
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: DashboardPanel[];
}

/** Each panel with a query (rows skipped, collapsed rows' panels included): its title and PromQL expressions. */
export function dashboardQueries(dashboard: {
  panels: DashboardPanel[];
}): Array<{ title: string; exprs: string[] }> {
  const flat = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return flat
    .filter((panel) => panel.type !== 'row')
    .map((panel) => ({
      title: panel.title,
      exprs: (panel.targets ?? []).flatMap((target) => (target.expr ? [target.expr] : [])),
    }))
    .filter((panel) => panel.exprs.length > 0);
}

/** Grafana's range variables, as a check minutes after start would see them. */
const VARIABLES: Record<string, string> = {
  $__rate_interval: '1m',
  $__interval: '15s',
  $__range: '10m',
};

/** The expression with Grafana's variables replaced, ready for Prometheus's query API. */
export function promqlFor(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, (name) => VARIABLES[name] ?? name);
}

/** The committed dashboard's panels with queries. */
export function committedDashboardQueries(): Array<{ title: string; exprs: string[] }> {
  return dashboardQueries(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
}
