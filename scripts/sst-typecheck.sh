#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/** against SST's generated declarations.
#
# sst.config.ts references .sst/platform/config.d.ts, which `sst install` generates (git-ignored).
# The SST CLI normally fetches bun and Pulumi from the internet; SST_NO_BUN makes it install the
# platform's packages with npm instead, and SST_SKIP_DEPENDENCY_CHECK skips Pulumi, so only the
# npm registry is needed. The step runs once per (SST version, sst.config.ts) and is skipped after.
#
# Without the registry (an offline host, or npm's `offline` set) and without a generated .sst/, the
# check is skipped with a notice on stderr and exit 0, so that `npm test` still runs everything else;
# CONSILIUM_REQUIRE_INFRA_TYPECHECK=1 makes that a failure instead (for a CI that must never skip it).
#
# `--prepare` (run by npm's postinstall, while the registry is at hand) only generates .sst/, so that
# a later `npm test` needs no network; it never fails the install: a failure is said and left for
# `npm test` to retry.
set -euo pipefail

prepare_only=false
[ "${1:-}" = "--prepare" ] && prepare_only=true

cd "$(dirname "$0")/.."

die() {
  printf 'sst-typecheck: %s\n' "$*" >&2
  if $prepare_only; then
    printf 'sst-typecheck: the install goes on; npm test will try again.\n' >&2
    exit 0
  fi
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

# The registry answers, and npm is not told to stay offline (`npm ping` ignores that setting).
registry_reachable() {
  [ "$(npm config get offline)" != "true" ] &&
    npm ping --registry "$NPM_REGISTRY" --fetch-timeout=10000 --fetch-retries=0 >/dev/null 2>&1
}

if ! prepared; then
  # The SST binary looks up provider packages itself, at NPM_REGISTRY or registry.npmjs.org.
  NPM_REGISTRY="${NPM_REGISTRY:-$(npm config get registry)}"
  export NPM_REGISTRY="${NPM_REGISTRY%/}"
  if ! registry_reachable; then
    why="no $platform/ is generated for this SST version and sst.config.ts, and the npm registry ($NPM_REGISTRY) is out of reach"
    [ "${CONSILIUM_REQUIRE_INFRA_TYPECHECK:-}" != 1 ] || die "$why (CONSILIUM_REQUIRE_INFRA_TYPECHECK=1)."
    if $prepare_only; then
      printf 'sst-typecheck: %s; npm test will generate it when the registry is reachable.\n' "$why" >&2
      exit 0
    fi
    printf 'sst-typecheck: SKIPPED: sst.config.ts and infra/ are NOT type-checked: %s.\n' "$why" >&2
    printf 'sst-typecheck: run "npm run typecheck:infra" once with the registry, or copy .sst/ from a machine that did.\n' >&2
    exit 0
  fi
  printf 'sst-typecheck: generating %s/ with sst %s (npm registry only, about a minute)...\n' "$platform" "$sst_version" >&2
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

$prepare_only && exit 0
exec node_modules/.bin/tsc -p tsconfig.infra.json --noEmit
