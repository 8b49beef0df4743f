/**
 * A returned Postgres session's transaction status (the ReadyForQuery status byte every driver
 * reports) and what it means for lending it again. A pure decision, no driver import.
 *
 * @example
 * ```ts
 * import { needsRollback } from "@effect-pool/engine/pg/transaction"
 *
 * needsRollback("I") // false: idle, lend it as it is
 * needsRollback("T") // true: still in a transaction — ROLLBACK before lending
 * needsRollback("E") // true: in a failed transaction
 * ```
 * @since 0.1.0
 */

/** `I` idle, `T` in a transaction block, `E` in a failed transaction block. */
export type TransactionStatus = "I" | "T" | "E"

/**
 * Whether a session must be rolled back before another borrower gets it: in a transaction
 * (`T`) or a failed one (`E`), or any status this module does not know. Idle (`I`) — or no
 * status reported (a driver that never ran a query on it) — is clean.
 */
export const needsRollback = (status: string | null | undefined): boolean =>
  status !== "I" && status !== null && status !== undefined
