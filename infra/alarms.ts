import { api } from "./api";
import { closeRounds } from "./cron";
import { aggregateJob } from "./aggregate";
import { jobsDlq } from "./queue";

// What the consortium is woken for, on one SNS topic it subscribes to (an address in
// CONSILIUM_ALARM_EMAIL at deploy time subscribes by email; any other subscription is added to the
// topic as usual):
// - a job in the dead-letter queue: a round's aggregation failed all its receives;
// - a round stuck aggregating: the cron re-queued an aggregation older than its grace, or closed a
//   round with too few updates (the cron's `RoundsRequeued` / `RoundsSkipped` metrics, written as
//   CloudWatch embedded-metric log lines: no API call, no permission);
// - the aggregate job or the cron failing (their Lambda `Errors`);
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

for (const [name, fn] of [["AggregateErrors", aggregateJob.nodes.function], ["CloseRoundsErrors", closeRounds.nodes.function]] as const) {
  new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: `The ${name.replace("Errors", "")} function failed (an error or a timeout).`,
    namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: fn.apply((f) => f.name) },
    statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", ...notify,
  });
}

const functionsLogged = [
  ["Api", $interpolate`/aws/lambda/${api.name}`, api],
  ["Aggregate", aggregateJob.nodes.function.apply((f) => $interpolate`/aws/lambda/${f.name}`), aggregateJob],
  ["CloseRounds", closeRounds.nodes.function.apply((f) => $interpolate`/aws/lambda/${f.name}`), closeRounds],
] as const;
for (const [name, logGroupName, component] of functionsLogged) {
  new aws.cloudwatch.LogMetricFilter(`${name}AuditNotWritten`, {
    logGroupName,
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
