/**
 * `@effect-pool/pg`: a Postgres connection pool for @effect/sql.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * ```
 * @since 0.1.0
 */

/**
 * Layers providing `SqlClient`, `PgClient` and `PgPool`.
 *
 * @since 0.1.0
 */
export * as PgPool from "./PgPool.js"
