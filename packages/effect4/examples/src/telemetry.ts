/**
 * Observability: the pools' Effect metrics served in Prometheus text format on 127.0.0.1
 * (`--metrics-port`), and spans sent to an OTLP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set
 * — both through @effect/opentelemetry 4's NodeSdk (OpenTelemetry's SDK, Prometheus exporter and
 * OTLP/HTTP trace exporter).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import type { MetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"

/**
 * The exporter is CommonJS, @effect/opentelemetry 4 ESM: their `MetricReader` types come from
 * sdk-metrics' two builds (one package, one version) and differ only in private fields.
 */
const prometheus = (port: number): MetricReader => new PrometheusExporter({ port, host: "127.0.0.1" }) as unknown as MetricReader

export const TelemetryLive = (metricsPort: number | undefined): Layer.Layer<never> => {
  const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (metricsPort === undefined && (otlp === undefined || otlp === "")) return Layer.empty
  return Layer.effectDiscard(Effect.void).pipe(Layer.provide(NodeSdk.layer(() => ({
    resource: { serviceName: "effect-pool-app" },
    ...(metricsPort === undefined ? {} : { metricReader: prometheus(metricsPort) }),
    ...(otlp === undefined || otlp === "" ? {} : { spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()) })
  }))))
}
