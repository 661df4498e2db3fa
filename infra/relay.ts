import { coordinatorAccess } from "./access";
import { FUNCTIONS, sized } from "./functions";
import { runtime } from "./runtime";
import { linked } from "./secrets";

// Regional tiers: a stage per region, deployed into that region (AWS_REGION) with the global
// coordinator's URL in CONSILIUM_UPSTREAM_URL and the region's site credential there set with
// `npx sst secret set UpstreamToken <token> --stage <region>`. The stage's own coordinator serves
// the region's sites; this relay is its one site at the global coordinator. Stages without
// CONSILIUM_UPSTREAM_URL (the global one) deploy no relay.
const upstreamUrl = process.env.CONSILIUM_UPSTREAM_URL;

export const upstreamToken = upstreamUrl ? new sst.Secret("UpstreamToken") : undefined;

export const relay =
  upstreamUrl && upstreamToken
    ? new sst.aws.Cron("RegionRelay", {
        schedule: "rate(1 minute)",
        function: {
          ...sized("RegionRelay"),
          runtime,
          link: [...linked(FUNCTIONS.RegionRelay.secrets), upstreamToken],
          permissions: coordinatorAccess("RegionRelay").permissions,
          environment: { ...coordinatorAccess("RegionRelay").environment, CONSILIUM_UPSTREAM_URL: upstreamUrl, CONSILIUM_REGION: $app.stage },
        },
      })
    : undefined;
