#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/** against SST's generated declarations.
#
# sst.config.ts references .sst/platform/config.d.ts, which `sst install` generates (git-ignored).
# The SST CLI normally fetches bun and Pulumi from the internet; SST_NO_BUN makes it install the
# platform's packages with npm instead, and SST_SKIP_DEPENDENCY_CHECK skips Pulumi, so only the
# npm registry is needed. The step runs once per (SST version, sst.config.ts) and is skipped after.
set -euo pipefail

cd "$(dirname "$0")/.."

die() {
  printf 'sst-typecheck: %s\n' "$*" >&2
  exit 1
}

[ -x node_modules/.bin/sst ] || die "node_modules/.bin/sst not found; run 'npm ci' first."
[ -x node_modules/.bin/tsc ] || die "node_modules/.bin/tsc not found; run 'npm ci' first."

platform=.sst/platform
stamp=.sst/typecheck.stamp
sst_version=$(node -p 'require("./node_modules/sst/package.json").version')
# app() in sst.config.ts decides the providers, hence the generated declarations.
want="sst=$sst_version config=$(node -e 'process.stdout.write(require("node:crypto").createHash("sha256").update(require("node:fs").readFileSync("sst.config.ts")).digest("hex"))')"

prepared() {
  [ -f "$platform/config.d.ts" ] &&
    [ -d "$platform/node_modules/@pulumi/aws" ] &&
    [ -f "$stamp" ] &&
    [ "$(cat "$stamp")" = "$want" ]
}

if ! prepared; then
  printf 'sst-typecheck: generating %s/ with sst %s (npm registry only, ~20-60 s)...\n' "$platform" "$sst_version" >&2
  # The SST binary looks up provider packages itself, at NPM_REGISTRY or registry.npmjs.org.
  NPM_REGISTRY="${NPM_REGISTRY:-$(npm config get registry)}"
  export NPM_REGISTRY="${NPM_REGISTRY%/}"
  mkdir -p .sst
  log=.sst/typecheck-install.log
  if ! SST_NO_BUN=true \
    SST_SKIP_DEPENDENCY_CHECK=true \
    SST_TELEMETRY_DISABLED=true \
    SST_STAGE="${SST_STAGE:-typecheck}" \
    npm_config_ignore_scripts=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false \
    node_modules/.bin/sst install --print-logs >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "'sst install' failed (full log: $log). It needs the npm registry ($NPM_REGISTRY) and a loadable sst.config.ts; delete .sst/ and retry."
  fi
  [ -f "$platform/config.d.ts" ] || {
    tail -n 40 "$log" >&2
    die "'sst install' succeeded but wrote no $platform/config.d.ts."
  }
  printf '%s\n' "$want" >"$stamp"
fi

exec node_modules/.bin/tsc -p tsconfig.infra.json --noEmit
