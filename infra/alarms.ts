import { api } from "./api";
import { closeRounds } from "./cron";
import { relay } from "./relay";
import { aggregateJob } from "./aggregate";
import { jobsDlq } from "./queue";

// What the consortium is woken for, on one SNS topic it subscribes to (an address in
// CONSILIUM_ALARM_EMAIL at deploy time subscribes by email; any other subscription is added to the
// topic as usual):
// - a job in the dead-letter queue: a round's aggregation failed all its receives;
// - a round stuck aggregating: the cron re-queued an aggregation older than its grace, or closed a
//   round with too few updates (the cron's `RoundsRequeued` / `RoundsSkipped` metrics, written as
//   CloudWatch embedded-metric log lines: no API call, no permission);
// - the aggregate job, the cron or a region's relay failing (their Lambda `Errors`);
// - an audit record not written: the action stands (docs/security.md), so each such gap, a logged
//   error in any function, is counted by a metric filter on the functions' logs and alarmed on.
export const alarms = new sst.aws.SnsTopic("Alarms");

const email = process.env.CONSILIUM_ALARM_EMAIL;
if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new Error(`CONSILIUM_ALARM_EMAIL is not an email address: "${email}"`);
if (email) new aws.sns.TopicSubscription("AlarmsEmail", { topic: alarms.arn, protocol: "email", endpoint: email });

/** The metric namespace of the coordinator's own metrics (functions/handlers/cron.ts). */
export const METRICS_NAMESPACE = "Consilium";

const notify = { alarmActions: [alarms.arn], okActions: [alarms.arn], treatMissingData: "notBreaching" };

export const deadLetters = new aws.cloudwatch.MetricAlarm("JobsDeadLettered", {
  alarmDescription: "An aggregate job failed all its receives and sits in the dead-letter queue: inspect it and redrive it.",
  namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: jobsDlq.nodes.queue.name },
  statistic: "Maximum", period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: "GreaterThanThreshold", ...notify,
});

for (const [name, metric, description] of [
  ["RoundStuck", "RoundsRequeued", "A round stayed aggregating past its grace and the cron queued its job again."],
  ["RoundSkipped", "RoundsSkipped", "A round reached its deadline with too few updates and closed without a model."],
] as const) {
  new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: description,
    namespace: METRICS_NAMESPACE, metricName: metric, dimensions: { Stage: $app.stage },
    statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...notify,
  });
}

// The functions whose failures and audit gaps are watched: SST names each one's log group itself
// (not /aws/lambda/<function>), so the group is read from the function's logging config.
const watch = (name: string, fn: $util.Output<aws.lambda.Function>, component: $util.Input<$util.Resource>) => ({
  name, functionName: fn.apply((f) => f.name), logGroup: fn.apply((f) => f.loggingConfig.logGroup), component,
});
const watched = [
  watch("Api", api.nodes.function, api),
  // A cron's or a subscriber's `nodes.function` is SST's Function component: its own `nodes.function` is the Lambda function.
  watch("Aggregate", aggregateJob.nodes.function.apply((f) => f.nodes.function), aggregateJob),
  watch("CloseRounds", closeRounds.nodes.function.apply((f) => f.nodes.function), closeRounds),
  ...(relay ? [watch("RegionRelay", relay.nodes.function.apply((f) => f.nodes.function), relay)] : []),
];

for (const { name, functionName } of watched) {
  if (name === "Api") continue; // The API answers errors as HTTP responses; its failures show in the status and the refusals.
  new aws.cloudwatch.MetricAlarm(`${name}Errors`, {
    alarmDescription: `The ${name} function failed (an error or a timeout).`,
    namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: functionName },
    statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...notify,
  });
}

for (const { name, logGroup, component } of watched) {
  new aws.cloudwatch.LogMetricFilter(`${name}AuditNotWritten`, {
    logGroupName: logGroup,
    // The phrase every function logs when an audit record cannot be written (functions/app.ts, use-cases/audit/append-audit.ts).
    pattern: '"audit record not written"',
    metricTransformation: { name: "AuditRecordsNotWritten", namespace: `${METRICS_NAMESPACE}/${$app.stage}`, value: "1" },
  }, { dependsOn: [component] });
}

export const auditGaps = new aws.cloudwatch.MetricAlarm("AuditRecordsNotWritten", {
  alarmDescription: "An audit record could not be written (its action stands): read the function's log and find out why.",
  namespace: `${METRICS_NAMESPACE}/${$app.stage}`, metricName: "AuditRecordsNotWritten",
  statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...notify,
});
