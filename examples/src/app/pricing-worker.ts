/**
 * The pricing worker (a worker_threads module): totals an order, with some CPU work per line
 * standing in for tax and discount rules. `crash` ends the thread (for the fault injector).
 * No `effect` import: both editions' apps run this same built file on their worker pools.
 */
import { createHash } from "node:crypto"
import type { Priced, PricingInput } from "./domain.js"

const rules = (sku: string, rounds: number): number => {
  let digest = sku
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex")
  return Number.parseInt(digest.slice(0, 2), 16) % 5 // a discount of 0–4 %
}

export default ({ order, items }: PricingInput): Priced => {
  const lines = order.lines.map((line) => {
    const item = items.find((i) => i.sku === line.sku)
    if (item === undefined) throw new Error(`unknown sku ${line.sku}`)
    const discount = rules(line.sku, 200)
    return { ...line, unitCents: Math.round(item.priceCents * (100 - discount) / 100) }
  })
  return { lines, totalCents: lines.reduce((sum, l) => sum + l.unitCents * l.quantity, 0) }
}

export const crash = (): never => process.exit(70)
