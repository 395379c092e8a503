// A small Kubernetes API server over recorded objects, for running the REAL kubectl in tests
// without a cluster: discovery, get and list (label and field selectors evaluated here, so a
// wrong selector gets a wrong answer), and delete (a deleted Namespace takes every object in it,
// as the namespace controller does). kubectl itself parses its flags, maps kinds, filters the
// objects of `-f` files by `-l`, and evaluates `-o jsonpath` on what this server returns.
//
//   const { startFakeApiServer } = require('./fake-apiserver.cjs');
//   const api = await startFakeApiServer(() => objects);   // objects: Kubernetes objects (JSON)
//   kubectl --server=api.url ...; api.deleted; api.objects(); await api.close();
//
// As a process (the deploy-script tests): node fake-apiserver.cjs STATE.json PORT_FILE
// serves the objects in STATE.json, re-read on every request, and writes its port to PORT_FILE.
'use strict';
const http = require('node:http');
const { readFileSync, writeFileSync, renameSync } = require('node:fs');

/** Kinds this server knows: group/version, plural, namespaced, short names. */
const KINDS = [
  ['', 'v1', 'Namespace', 'namespaces', false, ['ns']],
  ['', 'v1', 'ConfigMap', 'configmaps', true, ['cm']],
  ['', 'v1', 'Service', 'services', true, ['svc']],
  ['', 'v1', 'Pod', 'pods', true, ['po']],
  ['', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['pvc']],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']],
  ['apps', 'v1', 'Deployment', 'deployments', true, ['deploy']],
  ['apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts']],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb']],
  ['autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa']],
  ['networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol']],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, []],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds']],
  ['monitoring.coreos.com', 'v1', 'ServiceMonitor', 'servicemonitors', true, ['smon']],
  ['monitoring.coreos.com', 'v1', 'PrometheusRule', 'prometheusrules', true, ['promrule']],
  ['monitoring.coreos.com', 'v1', 'Probe', 'probes', true, ['prb']],
  ['argoproj.io', 'v1alpha1', 'Application', 'applications', true, ['app', 'apps']],
].map(([group, version, kind, plural, namespaced, shortNames]) => ({ group, version, kind, plural, namespaced, shortNames }));

const apiVersionOf = (k) => (k.group ? `${k.group}/${k.version}` : k.version);

/** Kubernetes label selector semantics: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`. */
function matchesLabels(selector, labels = {}) {
  if (!selector) return true;
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const term = raw.trim();
    let m;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim());
      const has = m[1] in labels && values.includes(labels[m[1]]);
      return m[2] === 'in' ? has : !has;
    }
    if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term))) return labels[m[1]] !== m[2];
    if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term))) return labels[m[1]] === m[2];
    if ((m = /^!(\S+)$/.exec(term))) return !(m[1] in labels);
    return term in labels;
  });
}

function matchesFields(selector, obj) {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) return false;
    const value = m[1] === 'metadata.name' ? obj.metadata.name : m[1] === 'metadata.namespace' ? obj.metadata.namespace : undefined;
    return m[2] === '!=' ? value !== m[3] : value === m[3];
  });
}

const status = (code, reason, message) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', reason, message, code });

/**
 * Starts the server on 127.0.0.1 (a free port). `source` returns the current objects; deletions
 * are remembered and hide objects from then on (a process-mode server re-reads its file, and
 * deletions stay). Resolves to { url, port, deleted, requests, objects(), close() }.
 */
function startFakeApiServer(source) {
  const deletedKeys = new Set();
  const deleted = [];
  const requests = [];
  const key = (o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const live = () => source().filter((o) => !deletedKeys.has(key(o)));

  const remove = (obj) => {
    if (deletedKeys.has(key(obj))) return;
    deletedKeys.add(key(obj));
    deleted.push(obj);
    if (obj.kind === 'Namespace') for (const o of live()) if (o.metadata.namespace === obj.metadata.name) remove(o);
    // A StatefulSet keeps its claims unless its retention policy says Delete (the default is Retain).
    if (obj.kind === 'StatefulSet' && obj.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') {
      for (const o of live()) {
        const owned = (obj.spec.volumeClaimTemplates ?? []).some((t) => o.metadata.name.startsWith(`${t.metadata.name}-${obj.metadata.name}-`));
        if (o.kind === 'PersistentVolumeClaim' && o.metadata.namespace === obj.metadata.namespace && owned) remove(o);
      }
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code, body) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      const path = url.pathname.replace(/\/$/, '');
      if (path === '/version') return send(200, { major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' });
      if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      if (path === '/apis') {
        const groups = [...new Set(KINDS.filter((k) => k.group).map((k) => `${k.group}/${k.version}`))].map((gv) => {
          const [name, version] = gv.split('/');
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        });
        return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
      }
      const disc = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
      if (disc) {
        const gv = disc[1] ?? `${disc[2]}/${disc[3]}`;
        const resources = KINDS.filter((k) => apiVersionOf(k) === gv).map((k) => ({
          name: k.plural,
          singularName: k.kind.toLowerCase(),
          namespaced: k.namespaced,
          kind: k.kind,
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          shortNames: k.shortNames,
        }));
        if (!resources.length) return send(404, status(404, 'NotFound', `the server could not find the requested resource`));
        return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources });
      }
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
      const kind = m && KINDS.find((k) => k.plural === m[4] && apiVersionOf(k) === (m[1] ? `${m[1]}/${m[2]}` : 'v1'));
      if (!m || !kind) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      const namespace = m[3];
      const name = m[5];
      const inScope = live().filter((o) => o.kind === kind.kind && apiVersionOf(kind) === o.apiVersion && (!kind.namespaced || !namespace || o.metadata.namespace === namespace));
      if (name) {
        const obj = inScope.find((o) => o.metadata.name === name);
        if (!obj) return send(404, status(404, 'NotFound', `${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}" not found`));
        if (req.method === 'DELETE') {
          remove(obj);
          return send(200, obj);
        }
        return send(200, obj);
      }
      if (req.method === 'GET') {
        const items = inScope.filter((o) => matchesLabels(url.searchParams.get('labelSelector'), o.metadata.labels) && matchesFields(url.searchParams.get('fieldSelector'), o));
        if (url.searchParams.get('watch')) {
          // kubectl delete --wait watches for the deletion; everything here is deleted at once.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return res.end();
        }
        return send(200, { kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind), metadata: { resourceVersion: '1' }, items });
      }
      return send(405, status(405, 'MethodNotAllowed', `${req.method} is not supported by the test API server`));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        deleted,
        requests,
        objects: live,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

module.exports = { startFakeApiServer, matchesLabels, KINDS };

if (require.main === module) {
  const [stateFile, portFile] = process.argv.slice(2);
  startFakeApiServer(() => JSON.parse(readFileSync(stateFile, 'utf8'))).then(({ port }) => {
    writeFileSync(`${portFile}.tmp`, String(port));
    renameSync(`${portFile}.tmp`, portFile);
  });
  process.on('SIGTERM', () => process.exit(0));
}
