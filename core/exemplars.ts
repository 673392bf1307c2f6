/**
 * Exemplars: a latency observation made inside a sampled span carries its `trace_id` and `span_id`, so a
 * dashboard's latency panel leads to a trace of a request in that bucket. Only OpenMetrics carries them, so a
 * process that traces serves its metrics as OpenMetrics (Prometheus negotiates it); one that does not keeps the
 * Prometheus text format, unchanged.
 */
import { type Histogram, Registry, type RegistryContentType } from 'prom-client';
import { activeTraceIds, currentTracing } from './trace-context.js';

/** A new registry of this process: OpenMetrics when it traces, the Prometheus text format otherwise. */
export function newRegistry(): Registry {
  const contentType: RegistryContentType = currentTracing()?.enabled
    ? Registry.OPENMETRICS_CONTENT_TYPE
    : Registry.PROMETHEUS_CONTENT_TYPE;
  // prom-client's constructor takes the format at run time; its typings leave the argument out.
  const WithFormat = Registry as unknown as new (format: RegistryContentType) => Registry;
  return new WithFormat(contentType);
}

/** Whether histograms of `registry` can carry exemplars (prom-client refuses them in the Prometheus format). */
export function exemplarsIn(registry: Registry): boolean {
  return (registry.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE;
}

/** Observes `value`, with the active span's ids as the exemplar when the histogram takes exemplars. */
export function observeWithExemplar<T extends string>(
  histogram: Histogram<T>,
  labels: Partial<Record<T, string | number>>,
  value: number,
): void {
  if (!(histogram as unknown as { enableExemplars?: boolean }).enableExemplars) {
    histogram.observe(labels, value);
    return;
  }
  const ids = activeTraceIds();
  histogram.observe({ labels, value, ...('trace_id' in ids ? { exemplarLabels: ids as never } : {}) });
}
