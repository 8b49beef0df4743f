/**
 * The Effect-free part of the test kit: real local servers (embedded Postgres, PgBouncer, http,
 * TLS, gRPC, a TCP proxy) and the benchmark statistics. The Effect 4 edition imports this entry
 * (`@effect-pool/testing/servers`) so no Effect 3 module reaches its tests.
 */
export * from "./net.js"
export * from "./pgbouncer.js"
export * from "./postgres.js"
export * from "./http.js"
export * from "./bench-stats.js"
export * from "./bench-postgres.js"
export * from "./tcp-proxy.js"
export * from "./pg-parameter-filter.js"
export * from "./grpc.js"
export * from "./grpc-interop.js"
export * from "./worker-files.js"
export * from "./tls.js"
