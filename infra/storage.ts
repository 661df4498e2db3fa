// All coordinator state (federation, rounds, updates, models, audit) lives in this one bucket.
export const bucket = new sst.aws.Bucket("State");
