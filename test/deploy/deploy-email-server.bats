#!/usr/bin/env bats
# scripts/deploy-email-server.sh against a stub kubectl (test/deploy/stubs) that records its
# calls. Its `get` calls run the real kubectl against a test API server over recorded objects
# (test/deploy/fake-apiserver.cjs), so the script's selectors and jsonpath queries are evaluated
# for real; its test pod runs the script's own in-pod SMTP check against a real Postfix. Each test
# runs the script in a copy of the repository layout (scripts/, environments/, dist/) built from
# the real synth output. Run through test/integration/deploy-script.test.ts, which sets:
#   DEPLOY_TEST_DIST   dist folder to copy (default: the repository's dist/; run npm run synth)
#   STUB_SMTP_TARGET   host:port of a running Postfix with the prod configuration (required)
#   STUB_CLOSED_PORT   a port on 127.0.0.1 where nothing listens (required)

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup_file() {
  local dist="${DEPLOY_TEST_DIST:-$REPO/dist}"
  if [[ ! -f $dist/prod/Kustomization ]]; then
    echo "no synthesized manifests in $dist: run npm run synth (or set DEPLOY_TEST_DIST)" >&2
    return 1
  fi
  if [[ -z ${STUB_SMTP_TARGET:-} || -z ${STUB_CLOSED_PORT:-} ]]; then
    echo "STUB_SMTP_TARGET and STUB_CLOSED_PORT are not set: run this suite through npx vitest run --project integration test/integration/deploy-script.test.ts (it starts the Postfix the test pod talks to)" >&2
    return 1
  fi
  REAL_KUBECTL=$(node "$REPO/scripts/real-tools.cjs" kubectl)
  export REAL_KUBECTL
  export FAKE_STATE="$BATS_FILE_TMPDIR/cluster.json"
  echo '[]' >"$FAKE_STATE"
  node "$REPO/test/deploy/fake-apiserver.cjs" "$FAKE_STATE" "$BATS_FILE_TMPDIR/api-port" 3>&- &
  echo $! >"$BATS_FILE_TMPDIR/api-pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $BATS_FILE_TMPDIR/api-port ]] && break
    sleep 0.1
  done
  [[ -s $BATS_FILE_TMPDIR/api-port ]] || { echo "the test API server did not start" >&2; return 1; }
  FAKE_API="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/api-port")"
  export FAKE_API
  # PATH for the "kubectl is missing" test: every tool the script uses, but no kubectl.
  export NO_KUBECTL_PATH="$BATS_FILE_TMPDIR/no-kubectl"
  mkdir -p "$NO_KUBECTL_PATH"
  local tool
  for tool in bash sed grep sort tr head paste dirname basename date mktemp rm cat timeout sleep env printf; do
    ln -s "$(command -v "$tool")" "$NO_KUBECTL_PATH/$tool"
  done
  # ... and npm (the stub), for --offline, which needs no kubectl.
  ln -s "$REPO/test/deploy/stubs/npm" "$NO_KUBECTL_PATH/npm"
}

teardown_file() {
  if [[ -f $BATS_FILE_TMPDIR/api-pid ]]; then kill "$(cat "$BATS_FILE_TMPDIR/api-pid")" 2>/dev/null || true; fi
}

setup() {
  local dist="${DEPLOY_TEST_DIST:-$REPO/dist}"
  ROOT="$BATS_TEST_TMPDIR/repo"
  mkdir -p "$ROOT/scripts"
  cp "$REPO/scripts/deploy-email-server.sh" "$ROOT/scripts/"
  cp -r "$REPO/environments" "$ROOT/environments"
  cp -r "$dist" "$ROOT/dist"
  SCRIPT="$ROOT/scripts/deploy-email-server.sh"
  export STUB_LOG="$BATS_TEST_TMPDIR/calls.log"
  : >"$STUB_LOG"
  export PATH="$REPO/test/deploy/stubs:$PATH"
}

teardown() {
  # The script must have stopped every port-forward it started.
  local pid
  if [[ -f $STUB_LOG.port-forward-pids ]]; then
    while read -r pid; do
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        echo "port-forward $pid was left running" >&2
        return 1
      fi
    done <"$STUB_LOG.port-forward-pids"
  fi
}

calls() { cat "$STUB_LOG"; }
called() { grep -qxF -- "$1" "$STUB_LOG"; }
called_like() { grep -qE -- "$1" "$STUB_LOG"; }
# Negations as commands that fail: in Bats, `! cmd` never fails a test (set -e ignores it).
not_called_like() {
  if grep -E -- "$1" "$STUB_LOG"; then
    echo "unexpected call(s) matching $1" >&2
    return 1
  fi
}
# Fails when stdin holds a line matching the extended regular expression $1.
no_line_matching() {
  local found
  found=$(grep -E -- "$1" || true)
  if [[ -n $found ]]; then
    printf 'unexpected line(s) matching %s:\n%s\n' "$1" "$found" >&2
    return 1
  fi
}
# Line number of the first call matching a regular expression (0 when absent).
call_line() { grep -nE -- "$1" "$STUB_LOG" | head -n1 | cut -d: -f1 || echo 0; }

# --- help and option errors ------------------------------------------------------------------

@test "-h and --help print the usage and touch nothing" {
  for flag in -h --help; do
    run "$SCRIPT" "$flag"
    [ "$status" -eq 0 ]
    [[ $output == *"Usage: scripts/deploy-email-server.sh [options]"* ]]
    for option in --env --namespace --verify-only --test-only --dry-run --offline --skip-synth --timeout --context --from --to; do
      [[ $output == *"$option"* ]]
    done
  done
  [ ! -s "$STUB_LOG" ]
}

@test "an option without its value is a usage error (exit 2)" {
  for option in -n --namespace -e --env --timeout --context --from --to --test-image; do
    run "$SCRIPT" "$option"
    [ "$status" -eq 2 ]
    [[ $output == *"error: option $option needs a value"* ]]
  done
  run "$SCRIPT" -n --verify-only
  [ "$status" -eq 2 ]
  [[ $output == *"error: option -n needs a value"* ]]
  run "$SCRIPT" --env=
  [ "$status" -eq 2 ]
  [ ! -s "$STUB_LOG" ]
}

@test "unknown options, bad values and conflicting modes are usage errors" {
  run "$SCRIPT" --frobnicate
  [ "$status" -eq 2 ]
  [[ $output == *"error: unknown option: --frobnicate"* ]]
  [[ $output == *"--help"* ]]
  run "$SCRIPT" --timeout soon
  [ "$status" -eq 2 ]
  [[ $output == *'--timeout: "soon" is not a duration'* ]]
  run "$SCRIPT" -e Prod
  [ "$status" -eq 2 ]
  run "$SCRIPT" --verify-only --test-only
  [ "$status" -eq 2 ]
  [[ $output == *"--verify-only and --test-only cannot be combined"* ]]
  [ ! -s "$STUB_LOG" ]
}

# --- environment and cluster checks ------------------------------------------------------------

@test "kubectl missing: clear error" {
  PATH="$NO_KUBECTL_PATH" run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"error: kubectl not found in PATH"* ]]
}

@test "cluster unreachable: clear error naming the context, nothing applied" {
  STUB_CLUSTER=down run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"error: cannot reach the Kubernetes API server (context: test-cluster): The connection to the server 127.0.0.1:6443 was refused"* ]]
  not_called_like '^kubectl apply'
}

@test "unknown environment: clear error listing the known ones, nothing synthesized or applied" {
  run "$SCRIPT" -e nope
  [ "$status" -eq 1 ]
  [[ $output == *'error: unknown environment "nope": there is no environments/nope.yaml (known: dev, prod, staging)'* ]]
  not_called_like '^npm'
  not_called_like '^kubectl'
}

@test "an environment that was never synthesized: says to run the synth" {
  rm -r "$ROOT/dist/staging"
  run "$SCRIPT" -e staging --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"dist/staging does not exist: run npm run synth first"* ]]
}

@test "-n picks the environment whose namespace it is" {
  run "$SCRIPT" -n email-server-staging --verify-only
  [ "$status" -eq 0 ]
  [[ $output == *"environment staging"* ]]
  called "kubectl -n email-server-staging rollout status deployment/postfix-relay --timeout=300s"
}

@test "-n with a namespace the environment is not rendered for: clear error, nothing applied" {
  run "$SCRIPT" -n mail-service-prod --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *'error: namespace "mail-service-prod" is not the namespace of environment "prod" (email-server-prod)'* ]]
  [[ $output == *'add environments/<name>.yaml with "namespace: mail-service-prod"'* ]]
  not_called_like '^kubectl'
  run "$SCRIPT" -e prod -n email-server-dev --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *'not the namespace of environment "prod"'* ]]
}

@test "--context is passed to every kubectl call" {
  run "$SCRIPT" --verify-only --context staging-cluster
  [ "$status" -eq 0 ]
  [[ $output == *"context staging-cluster"* ]]
  grep -v -- '--context staging-cluster' "$STUB_LOG" | no_line_matching '^kubectl'
}

# --- default flow -------------------------------------------------------------------------------

@test "default: synthesizes, applies the namespace then dist/prod, waits for the StatefulSet and verifies" {
  run "$SCRIPT"
  echo "$output"
  calls
  [ "$status" -eq 0 ]
  called "npm run --silent synth (in $ROOT)"
  called "kubectl apply -f $ROOT/dist/prod/00-namespace-email-server-prod.yaml"
  called "kubectl apply -f $ROOT/dist/prod"
  called "kubectl -n email-server-prod rollout status statefulset/postfix-relay --timeout=300s"
  called_like '^kubectl -n email-server-prod get endpointslices -l kubernetes.io/service-name=postfix-relay '
  called_like '^kubectl -n email-server-prod get poddisruptionbudget postfix-relay '
  called_like '^kubectl -n email-server-prod get horizontalpodautoscaler postfix-relay '
  called "kubectl -n email-server-prod port-forward service/postfix-relay-metrics :8080"
  # Order: synth, cluster check, CRDs, namespace, manifests, rollout, verification.
  [ "$(call_line '^npm run')" -lt "$(call_line '^kubectl version')" ]
  [ "$(call_line '^kubectl version')" -lt "$(call_line 'get customresourcedefinition')" ]
  [ "$(call_line 'get customresourcedefinition')" -lt "$(call_line '00-namespace')" ]
  [ "$(call_line '00-namespace')" -lt "$(call_line "apply -f $ROOT/dist/prod\$")" ]
  [ "$(call_line "apply -f $ROOT/dist/prod\$")" -lt "$(call_line 'rollout status')" ]
  [ "$(call_line 'rollout status')" -lt "$(call_line 'port-forward')" ]
  [[ $output == *"ok: service/postfix-relay has 2 ready endpoint(s)"* ]]
  [[ $output == *"ok: metrics answer on service/postfix-relay-metrics:8080 (postfix_up 1)"* ]]
  [[ $output == *"Verified: the relay of prod is up"* ]]
}

@test "dev: a Deployment, and no PDB or HPA checks because dev has none" {
  run "$SCRIPT" -e dev
  [ "$status" -eq 0 ]
  called "kubectl apply -f $ROOT/dist/dev"
  called "kubectl -n email-server-dev rollout status deployment/postfix-relay --timeout=300s"
  not_called_like 'poddisruptionbudget|horizontalpodautoscaler'
}

@test "--timeout is used for the rollout" {
  run "$SCRIPT" --skip-synth --timeout 10m
  [ "$status" -eq 0 ]
  called "kubectl -n email-server-prod rollout status statefulset/postfix-relay --timeout=10m"
}

@test "--skip-synth uses dist/ as it is" {
  run "$SCRIPT" --skip-synth
  [ "$status" -eq 0 ]
  not_called_like '^npm'
  called "kubectl apply -f $ROOT/dist/prod"
}

@test "a failed synth stops before kubectl" {
  STUB_SYNTH=fail run "$SCRIPT"
  [ "$status" -eq 1 ]
  [[ $output == *"error: synth failed (see above); dist/ was left unchanged and nothing was applied"* ]]
  not_called_like '^kubectl'
}

@test "missing prometheus-operator CRDs: clear error before anything is applied" {
  STUB_CRDS=absent run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"the prometheus-operator CRDs (ServiceMonitor, PrometheusRule) are not installed"* ]]
  not_called_like '^kubectl apply'
}

# A Probe (probe.enabled) needs its own CRD: stand one in for the synth of a probe-enabled file.
add_probe_manifest() {
  printf 'apiVersion: monitoring.coreos.com/v1\nkind: Probe\nmetadata:\n  name: postfix-relay\n  namespace: email-server-prod\n' >"$ROOT/dist/prod/probe-postfix-relay.yaml"
}

@test "a Probe without its CRD: named in the error before anything is applied" {
  add_probe_manifest
  STUB_CRDS=no-probe run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"the prometheus-operator CRDs (ServiceMonitor, PrometheusRule, Probe) are not installed"* ]]
  [[ $output == *"probe.enabled"* ]]
  called_like '^kubectl get customresourcedefinition servicemonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com probes.monitoring.coreos.com'
  not_called_like '^kubectl apply'
}

@test "--offline with a Probe lists its CRD among the checks" {
  add_probe_manifest
  PATH="$NO_KUBECTL_PATH" run "$SCRIPT" --offline --skip-synth
  [ "$status" -eq 0 ]
  [[ $output == *"kubectl get customresourcedefinition servicemonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com probes.monitoring.coreos.com"* ]]
}

@test "a failed apply is reported and nothing is verified" {
  STUB_APPLY=fail run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"could not apply the namespace email-server-prod"* ]]
  not_called_like 'rollout status'
}

@test "a rollout that does not finish fails with where to look" {
  STUB_ROLLOUT=fail run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"statefulset/postfix-relay did not finish its rollout within 300s"* ]]
  [[ $output == *"kubectl -n email-server-prod logs statefulset/postfix-relay -c postfix"* ]]
}

# --- dry run ------------------------------------------------------------------------------------

@test "--dry-run: synthesizes and runs a server-side dry run only" {
  run "$SCRIPT" --dry-run
  [ "$status" -eq 0 ]
  called "npm run --silent synth (in $ROOT)"
  called "kubectl apply --dry-run=server -f $ROOT/dist/prod"
  grep -v -- '--dry-run=server' "$STUB_LOG" | no_line_matching '^kubectl apply'
  not_called_like 'rollout|port-forward|kubectl .* run '
  [[ $output == *"ok: the API server accepts every object of dist/prod"* ]]
}

@test "--dry-run before the namespace exists: dry-runs the namespace and explains" {
  STUB_NAMESPACE=absent run "$SCRIPT" --dry-run --skip-synth
  [ "$status" -eq 1 ]
  called "kubectl apply --dry-run=server -f $ROOT/dist/prod/00-namespace-email-server-prod.yaml"
  [[ $output == *"namespace email-server-prod does not exist yet"* ]]
  grep -v -- '--dry-run=server' "$STUB_LOG" | no_line_matching '^kubectl apply'
}

@test "--dry-run rejected by the API server fails" {
  STUB_APPLY=fail run "$SCRIPT" --dry-run --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"the server-side dry run failed"* ]]
}

# --- verify only --------------------------------------------------------------------------------

@test "--verify-only: rollout, endpoints, PDB, HPA and metrics; no synth, no apply" {
  run "$SCRIPT" --verify-only
  [ "$status" -eq 0 ]
  not_called_like '^npm|^kubectl apply'
  called "kubectl -n email-server-prod rollout status statefulset/postfix-relay --timeout=300s"
  [[ $output == *"ok: poddisruptionbudget/postfix-relay present (2/1 healthy)"* ]]
  [[ $output == *"ok: horizontalpodautoscaler/postfix-relay present (2 replicas, 2-10)"* ]]
  [[ $output == *"postfix_up 1"* ]]
}

@test "--verify-only: no ready endpoints fails" {
  STUB_ENDPOINTS=none run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"service/postfix-relay has no ready endpoints"* ]]
}

@test "--verify-only: a missing PDB or HPA fails, naming it" {
  STUB_MISSING=pdb run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"poddisruptionbudget/postfix-relay is missing in namespace email-server-prod"* ]]
  STUB_MISSING=hpa run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"horizontalpodautoscaler/postfix-relay is missing"* ]]
}

@test "--verify-only: metrics not answering, or postfix_up 0, fails" {
  STUB_METRICS=down run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"kubectl port-forward to service/postfix-relay-metrics:8080 failed"* ]]
  STUB_METRICS=zero run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"postfix_up is not 1"* ]]
}

# --- test only ----------------------------------------------------------------------------------

@test "--test-only: sends through the relay Service from a short-lived pod and checks the 250" {
  run "$SCRIPT" --test-only
  [ "$status" -eq 0 ]
  not_called_like '^npm|^kubectl apply|rollout'
  line=$(grep -E '^kubectl -n email-server-prod run relay-test-' "$STUB_LOG")
  [[ $line == *" --rm -i --quiet --restart=Never "* ]]
  [[ $line == *" --image=docker.io/library/python:3.12-alpine "* ]]
  [[ $line == *'"runAsNonRoot":true'* ]]
  [[ $line == *'"drop":["ALL"]'* ]]
  [[ $line == *" postfix-relay relay-test@bionicaisolutions.com relay-test@bionicaisolutions.com relay-test.bionicaisolutions.com" ]]
  # The real Postfix's replies, step by step (the in-pod script itself ran).
  [[ $output == *"    EHLO 250 "* ]]
  [[ $output == *"    MAIL 250 2.1.0 Ok"* ]]
  [[ $output == *"    RCPT 250 2.1.5 Ok"* ]]
  [[ $output =~ "ok: the relay accepted the test message (250 2.0.0 Ok: queued as "[0-9A-Za-z]+")" ]]
}

@test "--test-only with --from, --to and --test-image" {
  run "$SCRIPT" --test-only --from ops@bionicaisolutions.com --to you@example.com --test-image registry.local/python:3.12
  [ "$status" -eq 0 ]
  line=$(grep -E ' run relay-test-' "$STUB_LOG")
  [[ $line == *" --image=registry.local/python:3.12 "* ]]
  [[ $line == *" postfix-relay ops@bionicaisolutions.com you@example.com "* ]]
}

@test "--test-only: a refusal fails with a hint for each cause" {
  STUB_SMTP=outside run "$SCRIPT" --test-only --to outside@example.com
  [ "$status" -eq 1 ]
  [[ $output == *"RCPT 554 5.7.1"*"Client host rejected"* ]]
  [[ $output == *"check network.mynetworks / network.clusterCidrs in environments/prod.yaml"* ]]
  [[ $output != *"mail.allowedSenderDomains"* ]]
  # Postfix refuses a sender at RCPT time too (smtpd_delay_reject), with 554: the text decides.
  run "$SCRIPT" --test-only --from a@evil.example --to refused@example.com
  [ "$status" -eq 1 ]
  [[ $output == *"Sender address rejected"* ]]
  [[ $output == *"use --from with an address in mail.allowedSenderDomains"* ]]
  [[ $output != *"network.mynetworks"* ]]
  STUB_SMTP=timeout run "$SCRIPT" --test-only --to unreachable@example.com
  [ "$status" -eq 1 ]
  [[ $output == *"could not connect to service/postfix-relay:25"* ]]
}

# --- queries evaluated for real (the real kubectl over recorded objects) ---------------------------

@test "readiness counts only the ready endpoints of service/postfix-relay" {
  # Recorded: postfix-relay has 2 ready endpoints and 1 not ready; postfix-relay-metrics has 4 ready.
  run "$SCRIPT" --verify-only
  [ "$status" -eq 0 ]
  [[ $output == *"ok: service/postfix-relay has 2 ready endpoint(s)"* ]]
  # None ready (3 endpoints, all starting or terminating; other Services' endpoints ready): refused.
  STUB_ENDPOINTS=none run "$SCRIPT" --verify-only
  [ "$status" -eq 1 ]
  [[ $output == *"service/postfix-relay has no ready endpoints"* ]]
}

@test "the PDB and HPA figures are read from the objects" {
  run "$SCRIPT" --verify-only -e staging
  [ "$status" -eq 0 ]
  [[ $output == *"ok: poddisruptionbudget/postfix-relay present (2/1 healthy)"* ]]
  [[ $output == *"ok: horizontalpodautoscaler/postfix-relay present (2 replicas, 2-10)"* ]]
}

# --- messages ----------------------------------------------------------------------------------

@test "messages have no stray punctuation" {
  STUB_CLUSTER=down run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"did you specify the right host or port? Check KUBECONFIG or pass --context."* ]]
  local all=$output
  for args in "-n mail-service-prod" "-e nope" "--dry-run --skip-synth" "--verify-only"; do
    # shellcheck disable=SC2086 # word splitting intended
    STUB_NAMESPACE=absent STUB_ENDPOINTS=none run "$SCRIPT" $args
    all+=$'\n'$output
  done
  no_line_matching '[.?!:;,][.:]( |$)|[?!.]\.|  +[.,]' <<<"$all"
}

# --- checks before the synth --------------------------------------------------------------------

@test "a namespace that does not match the environment is refused before the synth" {
  run "$SCRIPT" -n mail-service-prod
  [ "$status" -eq 1 ]
  [[ $output == *'error: namespace "mail-service-prod" is not the namespace of environment "prod" (email-server-prod)'* ]]
  not_called_like '^npm'
  not_called_like '^kubectl'
  run "$SCRIPT" -e prod -n email-server-dev
  [ "$status" -eq 1 ]
  [[ $output == *'not the namespace of environment "prod" (email-server-prod)'* ]]
  not_called_like '^npm'
}

@test "-n alone picks the environment from environments/ before the synth" {
  run "$SCRIPT" -n email-server-staging
  [ "$status" -eq 0 ]
  called "npm run --silent synth (in $ROOT)"
  called "kubectl apply -f $ROOT/dist/staging"
}

@test "a dist/ that synth did not write is refused before anything is applied" {
  # A half-written file (a disk that filled up while copying dist/, say).
  head -c 40 "$ROOT/dist/prod/statefulset-postfix-relay.yaml" >"$ROOT/dist/prod/statefulset-postfix-relay.yaml.part"
  mv "$ROOT/dist/prod/statefulset-postfix-relay.yaml.part" "$ROOT/dist/prod/statefulset-postfix-relay.yaml"
  run "$SCRIPT" --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *'dist/prod/statefulset-postfix-relay.yaml: no kind or metadata.name'* ]]
  not_called_like '^kubectl apply'
  # An object outside the environment's namespace, for a namespace-less manifest among the others.
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n' >"$ROOT/dist/dev/configmap-stray.yaml"
  run "$SCRIPT" -e dev --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *'dist/dev/configmap-stray.yaml: ConfigMap/stray is in namespace "none", not email-server-dev'* ]]
  not_called_like '^kubectl apply'
}

# --- offline ------------------------------------------------------------------------------------

@test "--offline: synthesizes, checks and prints the plan without kubectl or a cluster" {
  PATH="$NO_KUBECTL_PATH" run "$SCRIPT" --offline
  echo "$output"
  [ "$status" -eq 0 ]
  called "npm run --silent synth (in $ROOT)"
  not_called_like '^kubectl'
  [[ $output == *"ok: dist/prod: 12 objects, each with a kind and a name, all in namespace email-server-prod"* ]]
  [[ $output == *"kubectl apply -f dist/prod/00-namespace-email-server-prod.yaml"* ]]
  [[ $output == *"kubectl apply -f dist/prod/, which applies:"* ]]
  local f kind name
  for f in "$ROOT"/dist/prod/*.yaml; do
    kind=$(sed -n 's/^kind: *//p' "$f")
    name=$(sed -n '/^metadata:/,/^[^ ]/s/^  name: *//p' "$f" | head -n1)
    [[ $output == *"      $kind/$name"* ]]
  done
  [[ $output == *"kubectl get customresourcedefinition servicemonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com"* ]]
  [[ $output == *"kubectl -n email-server-prod rollout status statefulset/postfix-relay --timeout=300s"* ]]
  [[ $output == *"Offline checks passed: nothing was applied"* ]]
}

@test "--offline runs the same checks: a bad namespace, a failed synth, a broken dist/" {
  PATH="$NO_KUBECTL_PATH" run "$SCRIPT" --offline -n mail-service-prod
  [ "$status" -eq 1 ]
  [[ $output == *'is not the namespace of environment "prod"'* ]]
  not_called_like '^npm'
  PATH="$NO_KUBECTL_PATH" STUB_SYNTH=fail run "$SCRIPT" --offline
  [ "$status" -eq 1 ]
  [[ $output == *"synth failed"* ]]
  rm "$ROOT/dist/dev/configmap-postfix-config.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n' >"$ROOT/dist/dev/configmap-postfix-config.yaml"
  PATH="$NO_KUBECTL_PATH" run "$SCRIPT" --offline -e dev --skip-synth
  [ "$status" -eq 1 ]
  [[ $output == *"dist/dev/configmap-postfix-config.yaml: no kind or metadata.name"* ]]
  not_called_like '^kubectl'
}

@test "--offline does not combine with another mode" {
  run "$SCRIPT" --offline --dry-run
  [ "$status" -eq 2 ]
  [[ $output == *"--offline and --dry-run cannot be combined"* ]]
}

@test "the script is shellcheck-clean" {
  if ! command -v shellcheck >/dev/null; then
    [[ ${CI:-} != true ]] || { echo "shellcheck is missing (CI=true makes this a failure): apt-get install -y --no-install-recommends shellcheck" >&2; return 1; }
    skip "shellcheck not installed (apt-get install -y --no-install-recommends shellcheck)"
  fi
  shellcheck "$REPO/scripts/deploy-email-server.sh" "$REPO/test/deploy/stubs/kubectl" "$REPO/test/deploy/stubs/npm" "$REPO/test/deploy/deploy-email-server.bats"
}
