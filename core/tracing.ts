/**
 * Distributed tracing of a process (OpenTelemetry): one tracer provider exporting over OTLP/HTTP, parent-based
 * sampling, W3C trace context as the propagator (HTTP headers, Temporal headers, NATS headers). Off — no provider
 * registered, so every tracer is OpenTelemetry's no-op one and nothing is recorded — when no endpoint is set.
 */
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TraceSampling, TracingSettings } from './config.js';
import { currentTracing, rememberTracing } from './trace-context.js';

export { currentTracing } from './trace-context.js';

/** The tracing of one process. */
export interface Tracing {
  enabled: boolean;
  resource: Resource;
  /** Where spans go: what Temporal's workflow exporter sink hands the workflows' spans to (a no-op when off). */
  spanProcessor: SpanProcessor;
  /** Flushes and stops exporting; call once, last, on shutdown. */
  shutdown(): Promise<void>;
}

/** The sampler OTEL_TRACES_SAMPLER names; `parentbased_*` follow the caller's decision, so a trace stays whole. */
function samplerOf({ sampler, ratio }: TraceSampling): Sampler {
  const root = sampler.endsWith('always_on')
    ? new AlwaysOnSampler()
    : sampler.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratio);
  return sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Starts tracing for the process once (later calls return the first one): `serviceName` unless
 * OTEL_SERVICE_NAME says otherwise, OTEL_RESOURCE_ATTRIBUTES merged in.
 */
export function startTracing(settings: TracingSettings, serviceName: string, version?: string): Tracing {
  const installed = currentTracing();
  if (installed) return installed;
  const resource = Resource.default()
    .merge(
      new Resource({
        [ATTR_SERVICE_NAME]: serviceName,
        ...(version ? { [ATTR_SERVICE_VERSION]: version } : {}),
      }),
    )
    .merge(detectResourcesSync({ detectors: [envDetectorSync] }))
    .merge(
      settings.serviceName ? new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }) : Resource.empty(),
    );
  if (!settings.endpoint) {
    return rememberTracing({
      enabled: false,
      resource,
      spanProcessor: new NoopSpanProcessor(),
      shutdown: async () => {},
    });
  }
  const Exporter = settings.protocol === 'http/json' ? OtlpJsonExporter : OtlpProtobufExporter;
  const spanProcessor = new BatchSpanProcessor(new Exporter({ url: settings.endpoint }));
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerOf(settings.sampling),
    spanProcessors: [spanProcessor],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return rememberTracing({ enabled: true, resource, spanProcessor, shutdown: () => provider.shutdown() });
}
