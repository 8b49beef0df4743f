/**
 * A value sent in the startup message (`application_name`, `options`, any startup parameter),
 * checked when the pool is built: the protocol ends each such string with a NUL, so a NUL inside
 * one is refused by the server (or the driver) on every connect — a configuration error, said at
 * build instead of as an `acquireTimeout` on every statement. A pure decision, no driver import.
 *
 * @example
 * ```ts
 * import { startupValueProblem } from "@effect-pool/engine/pg/startup"
 *
 * startupValueProblem("billing") // undefined: fine
 * startupValueProblem(undefined) // undefined: not given
 * startupValueProblem("a\u0000b") // "must be free of NUL bytes"
 * ```
 * @since 0.1.0
 */

/** Why `value` cannot be sent in a startup message (completing "<option> …"), or `undefined` when it can or is not given. */
export const startupValueProblem = (value: string | undefined): string | undefined =>
  value?.includes("\u0000") ? "must be free of NUL bytes" : undefined
