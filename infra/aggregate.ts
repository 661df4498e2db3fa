import { coordinatorAccess } from "./access";
import { FUNCTIONS, JOBS, sized } from "./functions";
import { jobs } from "./queue";
import { runtime } from "./runtime";
import { linked } from "./secrets";

// The aggregate job: subscribed to the jobs queue, one round's aggregation per message.
export const aggregateJob = jobs.subscribe(
  {
    ...sized("Aggregate"),
    runtime,
    link: linked(FUNCTIONS.Aggregate.secrets),
    ...coordinatorAccess("Aggregate"),
  },
  // Partial responses keep the handler contract right if the batch size is ever raised.
  { batch: { size: JOBS.batchSize, partialResponses: true } },
);
