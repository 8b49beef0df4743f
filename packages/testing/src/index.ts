/**
 * Real servers for effect-pool's tests, benchmarks and examples (private, not published).
 */
export * from "./net.js"
export * from "./pgbouncer.js"
export * from "./postgres.js"
export * from "./http.js"
export * from "./bench.js"
export * from "./bench-postgres.js"
export * from "./assert.js"
export * from "./tcp-proxy.js"
export * from "./pg-parameter-filter.js"
export * from "./grpc.js"
export * from "./grpc-interop.js"
export * from "./worker-files.js"
export * from "./tls.js"
