/** Shared by the piscina port: paths of piscina's own fixtures (copied unchanged) and a pool maker. */
import { WorkerPool } from "@effect-pool/worker"
import { piscinaFixture } from "@effect-pool/testing-effect4"

/** The path of one of piscina's fixtures (`resolve(__dirname, 'fixtures/…')` in piscina's tests): the test kit's one copy. */
export const fixture = piscinaFixture

/**
 * Options every pool of the suite gets (unless its scenario gives them): atomics-disabled.test.ts
 * sets `atomics: "disabled"` and runs the whole suite again with threads that never park.
 */
export const suiteOptions: { atomics?: WorkerPool.Options["atomics"] } = {}

/** Runs the same scenario as `new Piscina(options)`; `any` in and out, like piscina's `run`. */
export const pool = (options: Omit<WorkerPool.Options<any, any>, "filename"> & { readonly filename: string | URL }) =>
  WorkerPool.make<any, any>({ ...suiteOptions, ...options })

/** `pool.run(input, options)`: always data-first (an input of `{}` would read as run's options). */
export const run = (p: WorkerPool.WorkerPool<any, any>, input: unknown, options: WorkerPool.RunOptions = {}) =>
  WorkerPool.run(p, input, options)
