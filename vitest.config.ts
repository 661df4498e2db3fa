import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["core/**/*.test.ts", "client/**/*.test.ts", "functions/**/*.test.ts", "gpu-runner/**/*.test.ts", "cli/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: {
      // The AWS SDK's documented switch for its notice that releases after early January 2027 need Node 22
      // (aws/aws-sdk-js-v3#7983); bin/consilium.mjs sets it too. Child processes and workers inherit it.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? "true",
    },
  },
});
