import { Document } from 'yaml';

/**
 * One object as a YAML document, keys in the order the object has them, with an optional
 * comment block on top.
 *
 * `version: '1.1'` quotes every string that a YAML 1.1 reader would turn into something else
 * (`yes`, `on`, `y`, `12:30`, `0777`...): kubectl, Helm and Argo CD read manifests with a
 * YAML 1.1 parser, so an unquoted `on` label would reach the API server as `true`.
 * `lineWidth: 0` never folds long strings (dashboard JSON, PromQL); no anchors or aliases.
 */
export function toYaml(object: unknown, comment?: string): string {
  const doc = new Document(object, { version: '1.1', aliasDuplicateObjects: false });
  if (comment) doc.commentBefore = comment.split('\n').map((line) => (line ? ` ${line}` : '')).join('\n');
  return doc.toString({ lineWidth: 0 });
}
