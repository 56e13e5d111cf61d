/**
 * Config files read with the `yaml` library (eemeli/yaml: YAML 1.2, its core schema, so JSON files
 * read too), plus what validation messages need from it: the 1-based line of every field and list item
 * by its path (`clusters[2]`, `preprocess.mean`), and syntax errors with their line.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/** A segment of a value's path: a field name or a list index. */
export type PathSegment = string | number;

/** `clusters[2]`, `preprocess.mean[0]`; the empty path is the document itself. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out;
}

export interface ParsedYaml {
  /** undefined for a document with no content (empty, or only comments). */
  value: unknown;
  /** 1-based line of each field and list item, by formatPath. */
  lines: Map<string, number>;
}

export class YamlSyntaxError extends Error {
  override readonly name = 'YamlSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export function parseYaml(source: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys: a field given twice is an error, not "the last one wins".
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const line = lineCounter.linePos(error.pos[0]).line;
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlSyntaxError(
      message.startsWith('Source contains multiple documents')
        ? 'one document per config file (a second --- starts another)'
        : message,
      line,
    );
  }
  const lines = new Map<string, number>();
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const visit = (node: unknown, path: PathSegment[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const line = lineOf(pair.key as Node);
        if (line !== undefined) lines.set(formatPath([...path, key]), line);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const line = lineOf(item as Node);
        if (line !== undefined) lines.set(formatPath([...path, i]), line);
        visit(item, [...path, i]);
      });
    }
  };
  visit(doc.contents, []);
  const value = doc.contents === null ? undefined : doc.toJS({ maxAliasCount: 100 });
  return { value: value === null && doc.contents === null ? undefined : value, lines };
}
