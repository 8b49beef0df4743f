/**
 * Named prepared statements. A statement with parameters that has run `threshold` times gets a
 * name: each connection then parses and plans it once and afterwards only binds and executes it
 * (what pgjdbc's `prepareThreshold`, npgsql's auto-prepare and postgres.js do). Statements
 * without parameters keep the simple protocol: it is the cheapest for them and the only one that
 * allows several commands in one text. Names are per pool, one per text, at most `max` of them
 * (so at most `max` prepared statements per session on the server).
 *
 * @internal
 */

export interface PreparedStatements {
  /** The name to run `text` under, or `undefined` (unnamed); counts the use. */
  nameFor(text: string, hasParams: boolean): string | undefined
  /** The server's copy of statement `name` (of `text`) is stale: the text's next uses get a new name. */
  forget(text: string, name: string): void
}

/** Texts counted toward the threshold are forgotten past this many (one-off texts never pile up). */
const MAX_COUNTED = 10_000

export const makePreparedStatements = (threshold: number, max: number): PreparedStatements => {
  const names = new Map<string, string>()
  const counts = new Map<string, number>()
  let next = 0
  const off = threshold === 0 || max === 0
  return {
    nameFor(text, hasParams) {
      if (off || !hasParams) return undefined
      const name = names.get(text)
      if (name !== undefined) return name
      if (names.size >= max) return undefined
      const uses = (counts.get(text) ?? 0) + 1
      if (uses < threshold) {
        if (counts.size >= MAX_COUNTED) counts.clear()
        counts.set(text, uses)
        return undefined
      }
      counts.delete(text)
      const fresh = `effect_pool_${next++}`
      names.set(text, fresh)
      return fresh
    },
    forget(text, name) {
      // only if it is still the text's name: a late failure of an old name keeps the new one
      if (names.get(text) === name) names.delete(text)
    }
  }
}

/**
 * Did a named statement fail because the server's copy of it no longer fits? `"changed"`: a
 * table it reads changed shape ("cached plan must not change result type", 0A000); `"missing"`:
 * the session lost it (`DEALLOCATE`, `DISCARD ALL`; 26000). Both fail at Bind, before anything
 * runs, so the statement may be sent again.
 */
export const staleStatement = (error: unknown): "changed" | "missing" | undefined => {
  const e = error as { code?: unknown; message?: unknown }
  if (e?.code === "26000") return "missing"
  if (e?.code === "0A000" && typeof e.message === "string" && e.message.includes("cached plan must not change result type")) {
    return "changed"
  }
  return undefined
}
