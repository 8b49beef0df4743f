/**
 * Starts one embedded Postgres for the pg tests, or uses the server in PG_URL / DATABASE_URL.
 */
import type { TestProject } from "vitest/node"
import { startServer } from "@effect-pool/testing-effect4"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.PG_URL ?? process.env.DATABASE_URL
  if (external !== undefined && external !== "") {
    project.provide("pgUrl", external)
    return
  }
  const server = await startServer()
  project.provide("pgUrl", server.url)
  return () => server.dispose()
}
