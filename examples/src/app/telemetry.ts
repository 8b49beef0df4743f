/**
 * Observability: the pools' Effect metrics served in Prometheus text format on 127.0.0.1
 * (`--metrics-port`), and spans sent to an OTLP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set
 * — both through @effect/opentelemetry's NodeSdk (OpenTelemetry's SDK, Prometheus exporter and
 * OTLP/HTTP trace exporter).
 */
import { NodeSdk } from "@effect/opentelemetry"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"

export const TelemetryLive = (metricsPort: number | undefined): Layer.Layer<never> => {
  const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (metricsPort === undefined && (otlp === undefined || otlp === "")) return Layer.empty
  return Layer.discard(NodeSdk.layer(() => ({
    resource: { serviceName: "effect-pool-app" },
    ...(metricsPort === undefined ? {} : { metricReader: new PrometheusExporter({ port: metricsPort, host: "127.0.0.1" }) }),
    ...(otlp === undefined || otlp === "" ? {} : { spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()) })
  })))
}
