import { createRequire } from 'node:module';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { TelemetryConfig } from '../config';

/**
 * Workflow interceptor modules every workflow bundle includes (a prebuilt bundle must pass them to
 * bundleWorkflowCode as workflowInterceptorModules): they carry the trace context from the client
 * through the workflow to its activities and child workflows, and export workflow spans via a sink.
 */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [
  createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered; call before the process ends. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

// The OpenTelemetry API keeps one tracer provider per process; this is ours once registered.
let registered: Promise<Tracing> | null = null;

/**
 * Registers the process's tracer provider exporting OTLP/HTTP protobuf to `otlpTracesUrl`, or returns
 * null when no endpoint is configured (the SDK is then never loaded). Idempotent: a process that is
 * both client and worker (tests, `tuneflow dev`) has one provider.
 */
export async function startTracing(telemetry: TelemetryConfig | undefined, serviceName: string): Promise<Tracing | null> {
  const url = telemetry?.otlpTracesUrl;
  if (!url) return null;
  registered ??= (async () => {
    const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }, { Resource }] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/resources'),
    ]);
    const resource = new Resource({ 'service.name': telemetry.serviceName ?? serviceName });
    const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 });
    const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
    provider.register();
    return {
      spanProcessor,
      resource,
      flush: () => provider.forceFlush(),
      shutdown: async () => {
        registered = null;
        await provider.shutdown();
      },
    };
  })();
  return registered;
}

/** The client side: `tuneflow run` (and every CLI command's client) opens the trace and sends its context along. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The worker side: workflow and activity interceptors plus the span sink. Always installed, so every
 * worker runs the same bundle; without a registered provider the spans are no-ops and dropped.
 */
export function tracingWorkerOptions(tracing: Tracing | null): Required<Pick<WorkerOptions, 'interceptors'>> & { sinks: InjectedSinks<OpenTelemetrySinks> } {
  return {
    interceptors: {
      workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: {
      // Workflow spans leave the sandbox through this sink; without tracing they are dropped.
      exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : { export: { fn: () => undefined } },
    },
  };
}
