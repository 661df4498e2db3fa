import { coordinatorAccess } from "./access";
import { runtime } from "./runtime";
import { adminToken, auditKey } from "./secrets";
import { jobs } from "./queue";
import { bucket } from "./storage";

// Routes only read/write small JSON and presign URLs; deltas go straight to S3, never through here.
export const api = new sst.aws.Function("Api", {
  handler: "functions/handlers/api.handler",
  runtime,
  url: true,
  link: [adminToken, auditKey],
  ...coordinatorAccess(bucket, jobs),
  memory: "512 MB",
  timeout: "30 seconds",
});
