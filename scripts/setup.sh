#!/usr/bin/env bash
# Brings what a fresh clone lacks, and nothing twice:
#   1. the npm packages, Node.js 24 among them (the `node` package from the npm registry
#      puts the real Node 24 binary at node_modules/.bin/node, first on the PATH of npm scripts);
#   2. the Apache Kafka broker's jars from Maven Central (tools/kafka/pom.xml), into .cache/kafka;
#   3. the Python tools the tests use (tools/python/requirements.txt), into .cache/venv.
# Used by `npm run demo` (with --demo: steps 1 and 2 only), `npm test`, `npm run bench` and CI.
# Safe to run again: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[2m[setup]\033[0m %s\n' "$*" >&2; }

# 1. npm packages. Reinstall when the lockfile is newer than the last install.
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (Node.js 24 included)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 2. The Kafka broker's classpath, keyed by the pom's content so a version bump refetches.
pom=tools/kafka/pom.xml
pom_hash=$(sha256sum "$pom" | cut -c1-12)
libs=.cache/kafka/$pom_hash/libs
if [ ! -f "$libs/.complete" ]; then
  command -v java >/dev/null || { echo "setup: Java 17+ is needed to run the local Kafka broker (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "setup: Maven is needed to fetch the Kafka broker's jars (apt-get install maven)" >&2; exit 1; }
  say "fetching the Apache Kafka broker's jars from Maven Central"
  rm -rf "$libs"
  mvn -B -q --no-transfer-progress -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$libs"
  touch "$libs/.complete"
fi
ln -sfn "$pom_hash" .cache/kafka/current

# 3. Python tools (cfn-lint, checkov, moto's SQS server) in a virtual environment, keyed by
#    the requirements file so a version bump reinstalls.
req=tools/python/requirements.txt
req_hash=$(sha256sum "$req" | cut -c1-12)
venv=.cache/venv
if [ "${1:-}" != "--demo" ] && [ ! -f "$venv/.complete-$req_hash" ]; then
  command -v python3 >/dev/null || { echo "setup: Python 3 is needed for cfn-lint, checkov and moto (apt-get install python3-venv)" >&2; exit 1; }
  say "installing the Python tools (cfn-lint, checkov, moto) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  touch "$venv/.complete-$req_hash"
fi
