/** The PromQL of docs/SLO.md's Sloth and Pyrra examples, with Sloth's {{.window}} filled in. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { fences } from '../../docs/markdown';

export interface DocQuery {
  readonly where: string;
  readonly expr: string;
}

export function sloToolQueries(path = 'docs/SLO.md', window = '5m'): DocQuery[] {
  const text = readFileSync(path, 'utf8');
  const section = text.slice(text.indexOf('## The same SLOs in Sloth or Pyrra'));
  const out: DocQuery[] = [];
  for (const block of fences(section).filter((f) => f.lang === 'yaml')) {
    for (const doc of parseAllDocuments(block.code).map((d) => d.toJS() as Record<string, any>)) {
      if (doc.version === 'prometheus/v1') {
        for (const slo of doc.slos as Array<Record<string, any>>) {
          const sli = slo.sli as Record<string, any>;
          const queries = sli.raw ? { error_ratio_query: sli.raw.error_ratio_query } : { error_query: sli.events.error_query, total_query: sli.events.total_query };
          for (const [k, q] of Object.entries(queries)) out.push({ where: `sloth ${slo.name}.${k}`, expr: String(q).split('{{.window}}').join(window).trim() });
        }
      } else if (doc.kind === 'ServiceLevelObjective') {
        const ind = doc.spec.indicator as Record<string, any>;
        if (ind.bool_gauge) out.push({ where: `pyrra ${doc.metadata.name}.bool_gauge`, expr: ind.bool_gauge.metric });
        if (ind.ratio) {
          out.push({ where: `pyrra ${doc.metadata.name}.errors`, expr: ind.ratio.errors.metric });
          out.push({ where: `pyrra ${doc.metadata.name}.total`, expr: ind.ratio.total.metric });
        }
      }
    }
  }
  return out;
}
