import { defineWorkspace } from "vitest/config"

/** One vitest project per package, plus the examples. */
export default defineWorkspace([
  {
    test: {
      name: "testing",
      root: "./packages/testing",
      include: ["test/*.test.ts"],
      testTimeout: 120_000
    }
  },
  {
    test: {
      name: "engine",
      root: "./packages/engine",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000
    }
  },
  {
    test: {
      name: "core",
      root: "./packages/core",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000
    }
  },
  {
    test: {
      name: "pg",
      root: "./packages/pg",
      include: ["test/**/*.test.ts"],
      globalSetup: ["./test/globalSetup.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000
    }
  },
  {
    test: {
      name: "http",
      root: "./packages/http",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000
    }
  },
  {
    test: {
      name: "worker",
      root: "./packages/worker",
      include: ["test/**/*.test.ts"],
      globalSetup: ["./test/globalSetup.ts"],
      testTimeout: 60_000
    }
  },
  {
    test: {
      name: "grpc",
      root: "./packages/grpc",
      include: ["test/**/*.test.ts"],
      testTimeout: 60_000
    }
  },
  {
    test: {
      name: "examples",
      root: "./examples",
      include: ["test/**/*.test.ts"],
      testTimeout: 60_000
    }
  }
])
