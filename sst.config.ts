/// <reference path="./.sst/platform/config.d.ts" />

// Only wires infra/* together: each concern lives in its own file, imported lazily because
// SST's globals ($app, sst.aws.*) exist only while run() executes.
export default $config({
  app(input) {
    return {
      name: "consilium",
      home: "aws",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
    };
  },
  async run() {
    const storage = await import("./infra/storage");
    const queue = await import("./infra/queue");
    await import("./infra/aggregate");
    await import("./infra/secrets");
    const api = await import("./infra/api");
    await import("./infra/cron");
    await import("./infra/relay");
    const alarms = await import("./infra/alarms");
    return {
      api: api.api.url,
      bucket: storage.bucket.name,
      auditBucket: storage.auditBucket.name,
      alarms: alarms.alarms.arn,
      queue: queue.jobs.url,
      deadLetterQueue: queue.jobsDlq.url,
    };
  },
});
