/**
 * `@effect-pool/pg` for Effect 4: a Postgres connection pool for `effect/sql`.
 *
 * @example
 * ```ts
 * import { PgPool } from "@effect-pool/pg"
 * ```
 * @since 4.0.0
 */

/**
 * Layers providing `SqlClient`, `PgClient` and `PgPool`.
 *
 * @since 4.0.0
 */
export * as PgPool from "./PgPool.js"
