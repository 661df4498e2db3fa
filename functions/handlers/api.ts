/**
 * @module
 * Lambda entry for the coordinator's HTTP API (function URL / API Gateway v2).
 */
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { createApp } from "../app.ts";
import { lambdaDeps } from "./resources.ts";

let handler_: ReturnType<typeof handle> | null = null;

export const handler = (event: LambdaEvent, context: LambdaContext) => {
  handler_ ??= handle(createApp(lambdaDeps()));
  return handler_(event, context);
};
