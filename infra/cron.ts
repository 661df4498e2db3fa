import { coordinatorAccess } from "./access";
import { runtime } from "./runtime";
import { adminToken, auditKey } from "./secrets";
import { jobs } from "./queue";
import { bucket } from "./storage";

// Closes rounds past their deadline and enqueues their aggregate job; the timeout stays under
// the one-minute period so ticks never overlap.
export const closeRounds = new sst.aws.Cron("CloseRounds", {
  schedule: "rate(1 minute)",
  function: {
    handler: "functions/handlers/cron.handler",
    runtime,
    link: [adminToken, auditKey],
    ...coordinatorAccess(bucket, jobs),
    memory: "256 MB",
    timeout: "50 seconds",
  },
});
