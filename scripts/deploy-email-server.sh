#!/usr/bin/env bash
# Deploys the Postfix relay of one environment with kubectl, then proves it works.
# Run with -h for the options; docs/DELIVERY.md explains each step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly DIST="$ROOT/dist"
readonly ENVIRONMENTS="$ROOT/environments"
readonly RELAY=postfix-relay
# Official image with Python (smtplib): the test speaks SMTP step by step and reports each reply.
readonly DEFAULT_TEST_IMAGE=docker.io/library/python:3.12-alpine

env_name=prod
env_given=0
namespace=""
mode=deploy
skip_synth=0
timeout=300s
context=""
mail_from=""
mail_to=""
test_image="$DEFAULT_TEST_IMAGE"
kubectl_cmd=(kubectl)
port_forward_pid=""
temp_files=()

usage() {
  cat <<EOF
Usage: scripts/deploy-email-server.sh [options]

Synthesizes the manifests (npm run synth), applies dist/<env> with kubectl (the namespace
first), waits for the rollout and verifies the relay.

Options:
  -e, --env NAME        environment: environments/NAME.yaml, dist/NAME (default: prod)
  -n, --namespace NS    namespace to deploy to; must be the environment's namespace
                        (without -e, the environment whose namespace is NS is used)
      --verify-only     only verify: rollout status, ready endpoints, PodDisruptionBudget and
                        HorizontalPodAutoscaler (when the environment has them), metrics answering
      --test-only       only send a test message through the relay from a short-lived pod and
                        check that the relay accepted it (250)
      --dry-run         synthesize and run a server-side dry run (kubectl apply --dry-run=server);
                        changes nothing
      --offline         no cluster, no kubectl: synthesize, run every check that needs no
                        cluster, and print what a deploy would apply and then check
      --skip-synth      use dist/ as it is (e.g. the artifact CI built)
      --timeout DUR     rollout timeout (default: 300s)
      --context NAME    kubeconfig context (default: the current context)
      --from ADDRESS    test message sender (default: relay-test@<mail domain>)
      --to ADDRESS      test message recipient (default: the sender)
      --test-image IMG  image of the test pod (default: $DEFAULT_TEST_IMAGE)
  -h, --help            show this help

Examples:
  scripts/deploy-email-server.sh -e staging
  scripts/deploy-email-server.sh -n email-server-prod --verify-only
  scripts/deploy-email-server.sh -e prod --test-only --to you@example.com
  scripts/deploy-email-server.sh -e prod --offline
EOF
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

usage_error() {
  printf 'error: %s\n' "$*" >&2
  printf 'Run %s --help for the options.\n' "$(basename "$0")" >&2
  exit 2
}

step() { printf '==> %s\n' "$*"; }

# "$1" followed by the sentence "$2": a full stop between them unless $1 already ends a sentence
# (kubectl's own messages end in "?" or "."), so no message reads "port?. Check".
then_sentence() {
  local first=$1 second=$2
  first=${first%"${first##*[![:space:]]}"}
  case $first in
    *[.?!]) printf '%s %s' "$first" "$second" ;;
    *[:\;,]) printf '%s %s' "${first%?}." "$second" ;;
    *) printf '%s. %s' "$first" "$second" ;;
  esac
}
ok() { printf '    ok: %s\n' "$*"; }

cleanup() {
  stop_port_forward
  if ((${#temp_files[@]})); then rm -f "${temp_files[@]}"; fi
}
trap cleanup EXIT

k() { "${kubectl_cmd[@]}" "$@"; }

# --- options -------------------------------------------------------------------------------

set_mode() {
  if [[ $mode != deploy && $mode != "$1" ]]; then
    usage_error "--$mode and --$1 cannot be combined: choose one"
  fi
  mode=$1
}

parse_args() {
  local opt value
  while (($#)); do
    opt=$1
    case $opt in
      -h | --help)
        usage
        exit 0
        ;;
      --verify-only) set_mode verify-only ;;
      --test-only) set_mode test-only ;;
      --dry-run) set_mode dry-run ;;
      --offline) set_mode offline ;;
      --skip-synth) skip_synth=1 ;;
      -e | --env | -n | --namespace | --timeout | --context | --from | --to | --test-image | --*=*)
        if [[ $opt == --*=* ]]; then
          value=${opt#*=}
          opt=${opt%%=*}
        elif (($# < 2)) || [[ $2 == -* ]]; then
          usage_error "option $opt needs a value"
        else
          value=$2
          shift
        fi
        [[ -n $value ]] || usage_error "option $opt needs a value"
        case $opt in
          -e | --env) env_name=$value env_given=1 ;;
          -n | --namespace) namespace=$value ;;
          --timeout) timeout=$value ;;
          --context) context=$value ;;
          --from) mail_from=$value ;;
          --to) mail_to=$value ;;
          --test-image) test_image=$value ;;
          *) usage_error "unknown option: $opt" ;;
        esac
        ;;
      *) usage_error "unknown option: $opt" ;;
    esac
    shift
  done
  [[ $env_name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || usage_error "--env: \"$env_name\" is not an environment name (lower-case letters, digits, \"-\")"
  [[ -z $namespace || $namespace =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || usage_error "--namespace: \"$namespace\" is not a namespace name"
  [[ $timeout =~ ^[0-9]+[smh]?$ ]] || usage_error "--timeout: \"$timeout\" is not a duration such as 300s or 5m"
  if [[ -n $context ]]; then kubectl_cmd+=(--context "$context"); fi
}

# --- what the environment contains (read from dist/<env>, written by src/output) -------------

known_environments() {
  local f names=()
  for f in "$ENVIRONMENTS"/*.yaml "$DIST"/*/Kustomization; do
    [[ -e $f ]] || continue
    if [[ $f == */Kustomization ]]; then f=${f%/Kustomization}; else f=${f%.yaml}; fi
    names+=("${f##*/}")
  done
  if ((${#names[@]})); then printf '%s\n' "${names[@]}" | sort -u | grep -vx -e argocd -e helm | paste -sd, - | sed 's/,/, /g'; fi
}

# The namespace an environment file declares (a top-level `namespace: <name>` line), if readable.
namespace_in_file() {
  sed -n -E "s/^namespace:[[:space:]]*[\"']?([a-z0-9]([-a-z0-9]*[a-z0-9])?)[\"']?[[:space:]]*(#.*)?$/\1/p" "$1" | head -n1
}

# The environment file that declares namespace $1, if any.
environment_file_of_namespace() {
  local f
  for f in "$ENVIRONMENTS"/*.yaml; do
    [[ -e $f ]] || continue
    if [[ $(namespace_in_file "$f") == "$1" ]]; then
      f=${f##*/}
      printf '%s\n' "${f%.yaml}"
      return 0
    fi
  done
  return 1
}

# Before the synth: the environment exists and -n names its namespace, read from environments/
# (the synth takes seconds and rewrites dist/: a wrong -n must not cost either).
check_environment_file() {
  if [[ -n $namespace && $env_given == 0 ]]; then
    local found
    if found=$(environment_file_of_namespace "$namespace"); then env_name=$found; fi
  fi
  if [[ ! -f $ENVIRONMENTS/$env_name.yaml ]]; then
    die "unknown environment \"$env_name\": there is no environments/$env_name.yaml (known: $(known_environments))"
  fi
  local declared
  declared=$(namespace_in_file "$ENVIRONMENTS/$env_name.yaml")
  if [[ -n $namespace && -n $declared && $namespace != "$declared" ]]; then
    namespace_mismatch "$declared"
  fi
}

namespace_mismatch() {
  die "namespace \"$namespace\" is not the namespace of environment \"$env_name\" ($1). The manifests, alert rules and dashboard are rendered for one namespace: use -n $1, choose the environment with -e, or add environments/<name>.yaml with \"namespace: $namespace\" and run npm run synth."
}

# The environment whose manifests create namespace $1, if any.
environment_of_namespace() {
  local f
  for f in "$DIST"/*/00-namespace-"$1".yaml; do
    [[ -e $f ]] || continue
    f=${f%/*}
    printf '%s\n' "${f##*/}"
    return 0
  done
  return 1
}

read_environment() {
  env_dir="$DIST/$env_name"
  if [[ ! -f $env_dir/Kustomization ]]; then
    if [[ ! -f $ENVIRONMENTS/$env_name.yaml ]]; then
      die "unknown environment \"$env_name\": there is no environments/$env_name.yaml (known: $(known_environments))"
    fi
    die "dist/$env_name does not exist: run npm run synth first (or drop --skip-synth, --verify-only or --test-only)"
  fi
  local namespaces
  namespaces=$(sed -n 's/^  namespace: *//p' "$env_dir"/*.yaml | tr -d '"' | sort -u)
  [[ -n $namespaces && $namespaces != *$'\n'* ]] || die "dist/$env_name: expected one namespace in its manifests, found: ${namespaces:-none}"
  env_namespace=$namespaces
  namespace_file=""
  if [[ -f $env_dir/00-namespace-$env_namespace.yaml ]]; then namespace_file="$env_dir/00-namespace-$env_namespace.yaml"; fi
  if [[ -f $env_dir/statefulset-$RELAY.yaml ]]; then workload=statefulset/$RELAY; else workload=deployment/$RELAY; fi
  has_pdb=0 has_hpa=0 has_metrics=0 prometheus_crds=() prometheus_kinds=()
  if [[ -f $env_dir/poddisruptionbudget-$RELAY.yaml ]]; then has_pdb=1; fi
  if [[ -f $env_dir/horizontalpodautoscaler-$RELAY.yaml ]]; then has_hpa=1; fi
  if [[ -f $env_dir/service-$RELAY-metrics.yaml ]]; then
    has_metrics=1
    metrics_port=$(sed -n 's/^ *port: *\([0-9][0-9]*\)$/\1/p' "$env_dir/service-$RELAY-metrics.yaml" | head -n1)
    metrics_port=${metrics_port:-8080}
  fi
  # The prometheus-operator CRDs this environment's objects need (the Probe only with probe.enabled).
  local kind
  for kind in ServiceMonitor PrometheusRule Probe; do
    if compgen -G "$env_dir/${kind,,}-*.yaml" >/dev/null; then
      prometheus_kinds+=("$kind")
      prometheus_crds+=("${kind,,}s.monitoring.coreos.com")
    fi
  done
  mail_domain=$(sed -n 's/^ *mydomain *= *//p' "$env_dir/configmap-postfix-config.yaml" 2>/dev/null | head -n1)
}

resolve_environment() {
  if [[ -n $namespace && $env_given == 0 ]]; then
    local found
    if found=$(environment_of_namespace "$namespace"); then env_name=$found; fi
  fi
  read_environment
  if [[ -z $namespace ]]; then
    namespace=$env_namespace
  elif [[ $namespace != "$env_namespace" ]]; then
    namespace_mismatch "$env_namespace"
  fi
}

# --- steps ---------------------------------------------------------------------------------

require_kubectl() {
  command -v kubectl >/dev/null 2>&1 || die "kubectl not found in PATH: install it (https://kubernetes.io/docs/tasks/tools/) and make sure your kubeconfig points at the cluster"
}

synthesize() {
  if ((skip_synth)); then return 0; fi
  check_environment_file
  command -v npm >/dev/null 2>&1 || die "npm not found in PATH: it is needed to synthesize the manifests (or pass --skip-synth to use dist/ as it is)"
  step "Synthesizing manifests (npm run synth)"
  (cd "$ROOT" && npm run --silent synth) || die "synth failed (see above); dist/ was left unchanged and nothing was applied"
}

check_cluster() {
  local err current
  err=$(mktemp)
  temp_files+=("$err")
  current=${context:-$(k config current-context 2>/dev/null || printf '(none)')}
  if ! k version --request-timeout=10s >/dev/null 2>"$err"; then
    die "$(then_sentence "cannot reach the Kubernetes API server (context: $current): $(grep -m1 -v '^\s*$' "$err" || echo 'no answer')" 'Check KUBECONFIG or pass --context.')"
  fi
  step "Cluster: context $current, namespace $namespace, environment $env_name"
}

check_prometheus_crds() {
  ((${#prometheus_crds[@]})) || return 0
  if ! k get customresourcedefinition "${prometheus_crds[@]}" >/dev/null 2>&1; then
    local kinds
    kinds=$(printf '%s, ' "${prometheus_kinds[@]}")
    die "the prometheus-operator CRDs (${kinds%, }) are not installed in this cluster: install the Prometheus Operator (e.g. kube-prometheus-stack) first, or turn off what needs them in environments/$env_name.yaml (serviceMonitor.enabled, alerts.enabled, probe.enabled)"
  fi
}

namespace_exists() { k get namespace "$namespace" >/dev/null 2>&1; }

apply_manifests() {
  check_manifests
  check_prometheus_crds
  if [[ -n $namespace_file ]]; then
    step "Applying namespace $namespace"
    k apply -f "$namespace_file" || die "could not apply the namespace $namespace"
  fi
  step "Applying dist/$env_name"
  k apply -f "$env_dir" || die "kubectl apply -f dist/$env_name/ failed (see above)"
}

dry_run() {
  check_manifests
  check_prometheus_crds
  if ! namespace_exists; then
    if [[ -n $namespace_file ]]; then
      k apply --dry-run=server -f "$namespace_file" || die "server-side dry run of the namespace failed"
    fi
    die "namespace $namespace does not exist yet, so the API server cannot dry-run the objects in it. Create it first (kubectl apply -f dist/$env_name/00-namespace-$namespace.yaml), then run --dry-run again."
  fi
  step "Server-side dry run of dist/$env_name (nothing is changed)"
  k apply --dry-run=server -f "$env_dir" || die "the server-side dry run failed (see above): nothing was changed"
  ok "the API server accepts every object of dist/$env_name"
}

# Every file of dist/<env> is one object with a kind and a name, in the environment's namespace
# (the Namespace itself aside): what kubectl would send, checked without a cluster.
check_manifests() {
  local f kind name ns count=0 problems=()
  for f in "$env_dir"/*.yaml; do
    [[ -e $f ]] || continue
    kind=$(sed -n 's/^kind: *//p' "$f" | head -n1)
    name=$(sed -n '/^metadata:/,/^[^ ]/s/^  name: *//p' "$f" | head -n1 | tr -d '"')
    ns=$(sed -n '/^metadata:/,/^[^ ]/s/^  namespace: *//p' "$f" | head -n1 | tr -d '"')
    if [[ -z $kind || -z $name ]]; then
      problems+=("${f#"$ROOT"/}: no kind or metadata.name")
    elif [[ $kind != Namespace && $ns != "$env_namespace" ]]; then
      problems+=("${f#"$ROOT"/}: $kind/$name is in namespace \"${ns:-none}\", not $env_namespace")
    fi
    count=$((count + 1))
  done
  ((count > 0)) || die "dist/$env_name holds no manifests"
  if ((${#problems[@]})); then
    die "dist/$env_name is not what npm run synth writes; run it again: $(printf '%s; ' "${problems[@]}")"
  fi
  ok "dist/$env_name: $count objects, each with a kind and a name, all in namespace $env_namespace"
}

# --offline: everything a deploy does before it needs the cluster, then the plan.
offline_plan() {
  local f kind name
  step "Offline: checks that need no cluster (nothing is contacted, nothing is applied)"
  ok "environments/$env_name.yaml is valid (npm run synth) and renders namespace $env_namespace"
  check_manifests
  step "A deploy would run, in this order:"
  printf '    kubectl version                       (the API server answers; context: %s)\n' "${context:-the current one}"
  if ((${#prometheus_crds[@]})); then
    printf '    kubectl get customresourcedefinition %s\n' "${prometheus_crds[*]}"
  fi
  if [[ -n $namespace_file ]]; then printf '    kubectl apply -f dist/%s/%s\n' "$env_name" "${namespace_file##*/}"; fi
  printf '    kubectl apply -f dist/%s/, which applies:\n' "$env_name"
  for f in "$env_dir"/*.yaml; do
    kind=$(sed -n 's/^kind: *//p' "$f" | head -n1)
    name=$(sed -n '/^metadata:/,/^[^ ]/s/^  name: *//p' "$f" | head -n1 | tr -d '"')
    printf '      %s/%s\n' "$kind" "$name"
  done
  printf '    kubectl -n %s rollout status %s --timeout=%s\n' "$namespace" "$workload" "$timeout"
  printf '    then the checks of --verify-only: ready endpoints of service/%s' "$RELAY"
  if ((has_pdb)); then printf ', poddisruptionbudget/%s' "$RELAY"; fi
  if ((has_hpa)); then printf ', horizontalpodautoscaler/%s' "$RELAY"; fi
  if ((has_metrics)); then printf ', postfix_up 1 on service/%s-metrics:%s' "$RELAY" "$metrics_port"; fi
  printf '\n'
  step "Offline checks passed: nothing was applied"
}

check_endpoints() {
  local ready
  ready=$(k -n "$namespace" get endpointslices -l "kubernetes.io/service-name=$RELAY" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}') ||
    die "could not read the endpoints of service/$RELAY"
  ready=$(grep -c . <<<"$ready" || true)
  ((ready > 0)) || die "service/$RELAY has no ready endpoints: no relay pod passes its readiness probe (kubectl -n $namespace get pods -l app.kubernetes.io/name=$RELAY)"
  ok "service/$RELAY has $ready ready endpoint(s)"
}

check_present() {
  local kind=$1 fields=$2 out
  out=$(k -n "$namespace" get "$kind" "$RELAY" -o "jsonpath=$fields" 2>&1) ||
    die "$kind/$RELAY is missing in namespace $namespace although dist/$env_name has it: $out"
  ok "$kind/$RELAY present ($out)"
}

stop_port_forward() {
  if [[ -n $port_forward_pid ]]; then
    kill "$port_forward_pid" 2>/dev/null || true
    wait "$port_forward_pid" 2>/dev/null || true
    port_forward_pid=""
  fi
}

# kubectl port-forward reaches the exporter from inside the pod's network namespace, so the
# NetworkPolicy (metrics only from the monitoring namespace) stays as it is.
check_metrics() {
  ((has_metrics)) || return 0
  local out port="" body i
  out=$(mktemp)
  temp_files+=("$out")
  # Started directly (not through k) so that $! is kubectl itself, which stop_port_forward kills.
  "${kubectl_cmd[@]}" -n "$namespace" port-forward "service/$RELAY-metrics" ":$metrics_port" >"$out" 2>&1 &
  port_forward_pid=$!
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$out" | head -n1)
    [[ -n $port ]] && break
    kill -0 "$port_forward_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $port ]] || die "kubectl port-forward to service/$RELAY-metrics:$metrics_port failed: $(tr '\n' ' ' <"$out")"
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  body=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && cat <&3' _ "$port" 2>&1) ||
    die "the metrics endpoint of service/$RELAY-metrics did not answer"
  stop_port_forward
  body=${body//$'\r'/}
  grep -Eq '^postfix_up(\{[^}]*\})? 1$' <<<"$body" ||
    die "service/$RELAY-metrics answers but postfix_up is not 1: the exporter cannot read the Postfix queue (kubectl -n $namespace logs $workload -c exporter)"
  ok "metrics answer on service/$RELAY-metrics:$metrics_port (postfix_up 1)"
}

verify() {
  step "Verifying $env_name in namespace $namespace"
  k -n "$namespace" rollout status "$workload" --timeout="$timeout" ||
    die "$workload did not finish its rollout within $timeout: see kubectl -n $namespace describe $workload, and kubectl -n $namespace logs $workload -c postfix"
  ok "$workload rolled out"
  check_endpoints
  if ((has_pdb)); then check_present poddisruptionbudget '{.status.currentHealthy}/{.status.desiredHealthy} healthy'; fi
  if ((has_hpa)); then check_present horizontalpodautoscaler '{.status.currentReplicas} replicas, {.spec.minReplicas}-{.spec.maxReplicas}'; fi
  check_metrics
  step "Verified: the relay of $env_name is up"
}

# A message sent through the relay Service from a throw-away pod in the relay's namespace (the
# namespace carries the access label the NetworkPolicy requires). 250 after DATA means Postfix
# accepted and queued it; delivery onwards to the relay host shows in the logs and metrics.
send_test_message() {
  local sender=${mail_from:-relay-test@${mail_domain:-}} recipient pod overrides output
  [[ $sender != *@ ]] || die "cannot tell the mail domain from dist/$env_name: pass --from ADDRESS"
  recipient=${mail_to:-$sender}
  pod="relay-test-$(date +%s)-$RANDOM"
  overrides=$(printf '{"spec":{"automountServiceAccountToken":false,"enableServiceLinks":false,"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"runAsGroup":65534,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"%s","securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}},"resources":{"requests":{"cpu":"10m","memory":"32Mi"},"limits":{"cpu":"200m","memory":"64Mi"}}}]}}' "$pod")
  step "Sending a test message $sender -> $recipient through service/$RELAY (pod $pod)"
  output=$(k -n "$namespace" run "$pod" --rm -i --quiet --restart=Never \
    --image="$test_image" --labels="app.kubernetes.io/name=relay-test" \
    --override-type=strategic --overrides="$overrides" \
    --env=PYTHONDONTWRITEBYTECODE=1 --command -- \
    python3 -c "$SMTP_TEST" "$RELAY" "$sender" "$recipient" "relay-test.${mail_domain:-invalid}" </dev/null 2>&1) || true
  printf '%s\n' "$output" | sed 's/^/    /'
  if grep -q '^DATA 250' <<<"$output"; then
    ok "the relay accepted the test message ($(sed -n 's/^DATA //p' <<<"$output" | head -n1))"
    return 0
  fi
  local hint="see the replies above"
  # Postfix delays refusals to RCPT (smtpd_delay_reject): tell them apart by their text.
  if grep -q 'Client host rejected' <<<"$output"; then hint="the relay refused this client: check network.mynetworks / network.clusterCidrs in environments/$env_name.yaml"; fi
  if grep -q 'Sender address rejected' <<<"$output"; then hint="the sender was refused: use --from with an address in mail.allowedSenderDomains"; fi
  if grep -qi 'timed out\|connection refused\|Name or service not known' <<<"$output"; then hint="could not connect to service/$RELAY:25: are relay pods ready, and does namespace $namespace carry the access label of the NetworkPolicy?"; fi
  die "the test message was not accepted: $hint"
}

# Runs in the test pod: one SMTP step at a time, each reply printed as "<STEP> <code> <text>".
# The first argument is the relay's host, optionally with ":port" (default 25).
SMTP_TEST=$(
  cat <<'PY'
import email.utils, smtplib, sys
target, sender, rcpt, helo = sys.argv[1:5]
host, _, port = target.partition(":")
msg = ("From: %s\r\nTo: %s\r\nSubject: email-server relay test\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n"
       "Test message from scripts/deploy-email-server.sh --test-only.\r\n"
       % (sender, rcpt, email.utils.formatdate(), email.utils.make_msgid(domain=helo)))
try:
    s = smtplib.SMTP(host, int(port or 25), local_hostname=helo, timeout=30)
    for step, reply in (("EHLO", lambda: s.ehlo()), ("MAIL", lambda: s.mail(sender)), ("RCPT", lambda: s.rcpt(rcpt))):
        code, text = reply()
        print(step, code, text.decode(errors="replace").replace("\n", " "))
        if code >= 400:
            sys.exit(1)
    code, text = s.data(msg)
    print("DATA", code, text.decode(errors="replace"))
    s.quit()
except Exception as e:
    print("ERROR", type(e).__name__, e)
    sys.exit(1)
PY
)
readonly SMTP_TEST

main() {
  parse_args "$@"
  if [[ $mode != offline ]]; then require_kubectl; fi
  case $mode in
    deploy | dry-run | offline) synthesize ;;
  esac
  resolve_environment
  if [[ $mode == offline ]]; then
    offline_plan
    return 0
  fi
  check_cluster
  case $mode in
    deploy)
      apply_manifests
      verify
      ;;
    dry-run) dry_run ;;
    verify-only) verify ;;
    test-only) send_test_message ;;
  esac
}

main "$@"
