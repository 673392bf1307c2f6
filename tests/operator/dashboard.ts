/** Reads the Grafana dashboard's PromQL so the observability check can run every panel's query on Prometheus. */

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
