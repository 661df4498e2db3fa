import { coordinatorAccess } from "./access";
import { FUNCTIONS, sized } from "./functions";
import { runtime } from "./runtime";
import { linked } from "./secrets";

// Closes rounds past their deadline and enqueues their aggregate job (timeout under the period: infra/functions.ts).
export const closeRounds = new sst.aws.Cron("CloseRounds", {
  schedule: "rate(1 minute)",
  function: {
    ...sized("CloseRounds"),
    runtime,
    link: linked(FUNCTIONS.CloseRounds.secrets),
    ...coordinatorAccess("CloseRounds"),
  },
});
