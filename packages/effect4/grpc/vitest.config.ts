import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "e4-grpc",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
