// The objects the test API server (../fake-apiserver.cjs) holds for the deploy-script tests, as
// the STUB_* variables describe the cluster (see ./kubectl). Printed as JSON.
//
// Each relay Service has its own EndpointSlice, and postfix-relay's holds a pod that is not ready
// (a pod starting or terminating): a readiness query that forgets its ready==true filter, or its
// service-name selector, counts wrong and the tests see it.
'use strict';
const env = process.env;
const missing = (what) => ` ${env.STUB_MISSING ?? ''} `.includes(` ${what} `);
const namespaces = ['email-server-dev', 'email-server-staging', 'email-server-prod'];

const slice = (ns, service, endpoints) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-x7k2p`, namespace: ns, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
  addressType: 'IPv4',
  ports: [{ name: service.endsWith('metrics') ? 'metrics' : 'smtp', port: service.endsWith('metrics') ? 8080 : 25, protocol: 'TCP' }],
  endpoints: endpoints.map(([ip, ready], i) => ({
    addresses: [ip],
    conditions: { ready, serving: ready, terminating: !ready },
    targetRef: { kind: 'Pod', name: `postfix-relay-${i}`, namespace: ns },
  })),
});

const objects = [];
if ((env.STUB_NAMESPACE ?? 'present') === 'present') {
  for (const ns of namespaces) objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}
const crds = env.STUB_CRDS ?? 'present';
if (crds !== 'absent') {
  for (const plural of ['servicemonitors', 'prometheusrules', ...(crds === 'no-probe' ? [] : ['probes'])]) {
    objects.push({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural}.monitoring.coreos.com` } });
  }
}
const ready = (env.STUB_ENDPOINTS ?? 'ready') !== 'none';
for (const ns of namespaces) {
  objects.push(slice(ns, 'postfix-relay', [['10.1.0.11', ready], ['10.1.0.12', ready], ['10.1.0.13', false]]));
  objects.push(slice(ns, 'postfix-relay-metrics', [['10.1.0.11', true], ['10.1.0.12', true], ['10.1.0.14', true], ['10.1.0.15', true]]));
  if (!missing('pdb')) {
    objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'postfix-relay', namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'postfix-relay' } } },
      status: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 2 },
    });
  }
  if (!missing('hpa')) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'postfix-relay', namespace: ns },
      spec: { minReplicas: 2, maxReplicas: 10, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'postfix-relay' } },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    });
  }
}
process.stdout.write(JSON.stringify(objects));
