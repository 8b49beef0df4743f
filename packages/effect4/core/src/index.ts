/**
 * `@effect-pool/core` for Effect 4 (placeholder while the port lands).
 *
 * @since 4.0.0
 */
export const edition = "effect4" as const
