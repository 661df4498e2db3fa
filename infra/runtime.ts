// Every function runs on Node.js 22: the AWS SDK's releases from January 2027 need it, and Lambda's
// default in this SST version is nodejs20.x. Local code runs on 20.19+ and 22.
export const runtime = "nodejs22.x" as const;
