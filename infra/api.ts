import { coordinatorAccess } from "./access";
import { FUNCTIONS, sized } from "./functions";
import { runtime } from "./runtime";
import { linked } from "./secrets";

// Routes only read/write small JSON and presign URLs; deltas go straight to S3, never through here.
export const api = new sst.aws.Function("Api", {
  ...sized("Api"),
  runtime,
  url: true,
  link: linked(FUNCTIONS.Api.secrets),
  ...coordinatorAccess("Api"),
});
