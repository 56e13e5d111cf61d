/**
 * The YAML that config files need, and no more: block mappings and lists, one-line and multi-line flow
 * collections `[...]` and `{...}` (so JSON files parse too), plain and quoted scalars with YAML 1.2's
 * core schema (null, true/false, integers, floats, strings), and comments. Anything else a full YAML
 * parser would accept (anchors, aliases, tags, block scalars `|` `>`, multi-line plain or quoted values,
 * several documents) is reported as not supported, with its line, rather than guessed at.
 *
 * Each field and list item's line is kept by its path (`clusters[2]`, `preprocess.mean`), so validation
 * can say where a wrong value is.
 */

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

interface Line {
  /** 1-based line number in the file. */
  no: number;
  indent: number;
  /** The content after the indentation, comments and trailing blanks removed. */
  text: string;
}

export function parseYaml(source: string): ParsedYaml {
  return new Parser(splitLines(source)).document();
}

/** Lines with content, comments removed; rejects what the parser never reads correctly. */
function splitLines(source: string): Line[] {
  const lines: Line[] = [];
  const raw = source.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let seenContent = false;
  raw.forEach((full, index) => {
    const no = index + 1;
    const indent = full.length - full.replace(/^ +/, '').length;
    const text = stripComment(full.slice(indent), no).trimEnd();
    if (text === '') return;
    if (text.startsWith('\t')) throw new YamlSyntaxError('tabs cannot indent YAML; use spaces', no);
    if (indent === 0 && (text === '---' || text.startsWith('--- '))) {
      if (seenContent || text !== '---') {
        throw new YamlSyntaxError('one document per config file (a second --- or content after ---)', no);
      }
      return;
    }
    if (indent === 0 && text === '...') return;
    if (indent === 0 && text.startsWith('%'))
      throw new YamlSyntaxError('YAML directives are not supported', no);
    seenContent = true;
    lines.push({ no, indent, text });
  });
  return lines;
}

/** The line without its comment: `#` at the start or after a blank, outside quotes. */
function stripComment(text: string, no: number): string {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const prev = i === 0 ? ' ' : text[i - 1]!;
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = undefined;
    } else if (quote === "'") {
      if (c === "'" && text[i + 1] === "'") i++;
      else if (c === "'") quote = undefined;
    } else if (c === '#' && /\s/.test(prev)) {
      return text.slice(0, i);
    } else if ((c === '"' || c === "'") && /(?:^|[-:[{,])\s*$/.test(text.slice(0, i))) {
      // A quote starts a quoted value only where a value starts (not in `run: don't`).
      quote = c;
    }
  }
  if (quote) throw new YamlSyntaxError(`a ${quote}-quoted value must end on its line`, no);
  return text;
}

const UNSUPPORTED: Record<string, string> = {
  '&': 'anchors (&) are not supported',
  '*': 'aliases (*) are not supported',
  '!': 'tags (!) are not supported',
  '|': 'block scalars (|) are not supported; keep the value on one line',
  '>': 'block scalars (>) are not supported; keep the value on one line',
  '@': '@ cannot start a plain value; quote it',
  '`': '` cannot start a plain value; quote it',
  '%': '% cannot start a plain value; quote it',
};

const isListItem = (text: string) => text === '-' || text.startsWith('- ');

/** YAML 1.2 core schema: what a plain (unquoted) scalar means. */
function plainScalar(text: string): unknown {
  if (/^(?:null|Null|NULL|~)?$/.test(text)) return null;
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^0o[0-7]+$/.test(text)) return Number.parseInt(text.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(text)) return Number.NaN;
  return text;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  b: '\b',
  t: '\t',
  n: '\n',
  f: '\f',
  r: '\r',
  e: '\x1b',
  '"': '"',
  '/': '/',
  '\\': '\\',
  ' ': ' ',
};

/** A quoted scalar starting at text[start]; returns its value and the index after the closing quote. */
function quoted(text: string, start: number, no: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c !== "'") value += c;
      else if (text[i + 1] === "'") {
        value += "'";
        i++;
      } else return { value, end: i + 1 };
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else if (c === '\\') {
      const e = text[i + 1] ?? '';
      const hex = { x: 2, u: 4, U: 8 }[e];
      if (hex !== undefined) {
        const digits = text.slice(i + 2, i + 2 + hex);
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits))
          throw new YamlSyntaxError(`bad escape \\${e}${digits}`, no);
        value += String.fromCodePoint(Number.parseInt(digits, 16));
        i += 1 + hex;
      } else if (e in ESCAPES) {
        value += ESCAPES[e];
        i++;
      } else {
        throw new YamlSyntaxError(`unknown escape \\${e} in a "-quoted value`, no);
      }
    } else {
      value += c;
    }
  }
  throw new YamlSyntaxError(`a ${quote}-quoted value must end on its line`, no);
}

/** `key: rest` at the start of a block line, or undefined when the line is no mapping entry. */
function mappingEntry(text: string, no: number): { key: string; restColumn: number } | undefined {
  let key: string;
  let after: number;
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = quoted(text, 0, no);
    const colon = text.slice(q.end).search(/\S/);
    if (colon < 0 || text[q.end + colon] !== ':') return undefined;
    key = q.value;
    after = q.end + colon + 1;
  } else {
    if (/^[[{]/.test(text) || isListItem(text)) return undefined;
    if (text === '?' || text.startsWith('? '))
      throw new YamlSyntaxError('complex keys (?) are not supported', no);
    const colon = text.search(/:(?: |$)/);
    if (colon < 0) return undefined;
    key = text.slice(0, colon).trimEnd();
    after = colon + 1;
  }
  if (after < text.length && text[after] !== ' ') return undefined;
  const rest = text.slice(after).search(/\S/);
  return { key, restColumn: rest < 0 ? text.length : after + rest };
}

class Parser {
  private i = 0;
  private readonly lines = new Map<string, number>();

  constructor(private readonly source: Line[]) {}

  document(): ParsedYaml {
    if (this.source.length === 0) return { value: undefined, lines: this.lines };
    const value = this.node([], this.source[0]!.indent);
    const left = this.source[this.i];
    if (left) {
      const sameLevel = left.indent === this.source[0]!.indent && Array.isArray(value);
      throw new YamlSyntaxError(
        sameLevel ? `expected a list item "- value", got "${left.text}"` : 'unexpected indentation',
        left.no,
      );
    }
    return { value, lines: this.lines };
  }

  /** After a block mapping or list: a line indented deeper than it but not under any of its entries. */
  private endOfBlock(indent: number) {
    const next = this.source[this.i];
    if (next && next.indent > indent) {
      throw new YamlSyntaxError('unexpected indentation (it matches no field or list item above)', next.no);
    }
  }

  private mark(path: PathSegment[], no: number) {
    this.lines.set(formatPath(path), no);
  }

  /** The node that starts at the current line, whose indentation is `indent`. */
  private node(path: PathSegment[], indent: number): unknown {
    const line = this.source[this.i]!;
    if (isListItem(line.text)) return this.list(path, indent);
    if (mappingEntry(line.text, line.no)) return this.mapping(path, indent);
    return this.valueAt(path, line, 0, indent);
  }

  private mapping(path: PathSegment[], indent: number): Record<string, unknown> {
    const entries = new Map<string, unknown>();
    const where = new Map<string, number>();
    for (let line = this.source[this.i]; line && line.indent === indent; line = this.source[this.i]) {
      const entry = mappingEntry(line.text, line.no);
      if (!entry) {
        throw new YamlSyntaxError(
          isListItem(line.text)
            ? 'a list item where a field was expected (indent the list under its field)'
            : `expected "field: value", got "${line.text}"`,
          line.no,
        );
      }
      if (where.has(entry.key)) {
        throw new YamlSyntaxError(
          `field "${entry.key}" appears twice (also on line ${where.get(entry.key)})`,
          line.no,
        );
      }
      where.set(entry.key, line.no);
      const child = [...path, entry.key];
      this.mark(child, line.no);
      entries.set(entry.key, this.valueAt(child, line, entry.restColumn, indent, true));
    }
    this.endOfBlock(indent);
    return Object.fromEntries(entries);
  }

  private list(path: PathSegment[], indent: number): unknown[] {
    const items: unknown[] = [];
    // A line at the same indentation that is no item ends the list: the next field of the mapping
    // that holds it (`layers:` then `- a` at the field's own indentation).
    for (
      let line = this.source[this.i];
      line && line.indent === indent && isListItem(line.text);
      line = this.source[this.i]
    ) {
      const child = [...path, items.length];
      this.mark(child, line.no);
      const column = line.text === '-' ? 1 : 1 + line.text.slice(1).search(/\S/);
      const rest = line.text.slice(column);
      if (rest !== '' && (isListItem(rest) || mappingEntry(rest, line.no))) {
        // `- key: value` / `- - x`: a nested node whose indentation is the column of its first character.
        this.source[this.i] = { no: line.no, indent: indent + column, text: rest };
        items.push(this.node(child, indent + column));
      } else {
        items.push(this.valueAt(child, line, column, indent));
      }
    }
    this.endOfBlock(indent);
    return items;
  }

  /**
   * The value that starts at `column` of `line` (after `key:` or `- `), or on the lines below it when
   * the line ends there. `owner` is the indentation of the field or item the value belongs to.
   */
  private valueAt(
    path: PathSegment[],
    line: Line,
    column: number,
    owner: number,
    inMapping = false,
  ): unknown {
    const rest = line.text.slice(column);
    if (rest === '') {
      this.i++;
      const next = this.source[this.i];
      if (next && next.indent > owner) return this.node(path, next.indent);
      // A list may sit at its field's own indentation (`layers:` then `- a` below it).
      if (inMapping && next && next.indent === owner && isListItem(next.text)) return this.list(path, owner);
      return null;
    }
    const problem = UNSUPPORTED[rest[0]!];
    if (problem) throw new YamlSyntaxError(problem, line.no);
    let value: unknown;
    if (rest[0] === '[' || rest[0] === '{') {
      const flow = new FlowReader(this.source, this.i, column, this.lines);
      value = flow.value(path);
      flow.expectEndOfLine();
      this.i = flow.lineIndex + 1;
    } else if (rest[0] === '"' || rest[0] === "'") {
      const q = quoted(rest, 0, line.no);
      if (rest.slice(q.end).trim() !== '') {
        throw new YamlSyntaxError(`unexpected "${rest.slice(q.end).trim()}" after a quoted value`, line.no);
      }
      value = q.value;
      this.i++;
    } else {
      if (/:(?: |$)/.test(rest)) {
        throw new YamlSyntaxError(`a value cannot contain ": " unless quoted (got ${rest})`, line.no);
      }
      value = plainScalar(rest);
      this.i++;
    }
    const next = this.source[this.i];
    if (next && next.indent > owner) {
      throw new YamlSyntaxError(
        'unexpected indentation (a value cannot continue on the next line; keep it on one line)',
        next.no,
      );
    }
    return value;
  }
}

/** Flow collections `[a, b]` and `{a: 1}`, possibly over several lines (JSON is one). */
class FlowReader {
  constructor(
    private readonly source: Line[],
    public lineIndex: number,
    private column: number,
    private readonly lines: Map<string, number>,
  ) {}

  private get line(): Line {
    return this.source[this.lineIndex]!;
  }

  /** The next non-blank character, moving to later lines as needed; undefined at the end of the file. */
  private peek(): string | undefined {
    for (;;) {
      const text = this.line.text;
      while (this.column < text.length && text[this.column] === ' ') this.column++;
      if (this.column < text.length) return text[this.column];
      if (this.lineIndex + 1 >= this.source.length) return undefined;
      this.lineIndex++;
      this.column = 0;
    }
  }

  private fail(message: string): never {
    throw new YamlSyntaxError(message, this.line.no);
  }

  /** What is left of the current line, as a message shows it. */
  private rest(): string {
    const rest = this.line.text.slice(this.column).trim();
    return rest.length > 30 ? `${rest.slice(0, 27)}...` : rest;
  }

  expectEndOfLine() {
    const rest = this.line.text.slice(this.column).trim();
    if (rest !== '') this.fail(`unexpected "${rest}" after the closing bracket`);
  }

  value(path: PathSegment[]): unknown {
    const c = this.peek();
    if (c === undefined) this.fail('the file ends inside [ ] or { }');
    if (c === '[') return this.list(path);
    if (c === '{') return this.mapping(path);
    const problem = UNSUPPORTED[c];
    if (problem) this.fail(problem);
    return this.scalar();
  }

  private scalar(): unknown {
    const text = this.line.text;
    const c = text[this.column]!;
    if (c === '"' || c === "'") {
      const q = quoted(text, this.column, this.line.no);
      this.column = q.end;
      return q.value;
    }
    const end = text.slice(this.column).search(/[,[\]{}]|:(?: |$)/);
    const raw = (end < 0 ? text.slice(this.column) : text.slice(this.column, this.column + end)).trim();
    if (raw === '') this.fail(`expected a value, got "${c}"`);
    this.column = end < 0 ? text.length : this.column + end;
    return plainScalar(raw);
  }

  private list(path: PathSegment[]): unknown[] {
    const opened = this.line.no;
    this.column++;
    const items: unknown[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new YamlSyntaxError(`[ opened on line ${opened} is never closed`, opened);
      if (c === ']') break;
      const child = [...path, items.length];
      this.lines.set(formatPath(child), this.line.no);
      items.push(this.value(child));
      const next = this.peek();
      if (next === ',') this.column++;
      else if (next === ']') break;
      else if (next === undefined)
        throw new YamlSyntaxError(`[ opened on line ${opened} is never closed`, opened);
      else this.fail(`expected "," or "]" in a list, got ${this.rest()}`);
    }
    this.column++;
    return items;
  }

  private mapping(path: PathSegment[]): Record<string, unknown> {
    const opened = this.line.no;
    this.column++;
    const entries = new Map<string, unknown>();
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new YamlSyntaxError(`{ opened on line ${opened} is never closed`, opened);
      if (c === '}') break;
      const keyLine = this.line.no;
      const key = this.scalar();
      if (this.peek() !== ':') this.fail(`expected ":" after the field name ${JSON.stringify(key)}`);
      this.column++;
      const name = String(key);
      if (entries.has(name)) this.fail(`field "${name}" appears twice`);
      const child = [...path, name];
      this.lines.set(formatPath(child), keyLine);
      const next = this.peek();
      entries.set(name, next === ',' || next === '}' ? null : this.value(child));
      const after = this.peek();
      if (after === ',') this.column++;
      else if (after === '}') break;
      else if (after === undefined)
        throw new YamlSyntaxError(`{ opened on line ${opened} is never closed`, opened);
      else this.fail(`expected "," or "}" in a mapping, got ${this.rest()}`);
    }
    this.column++;
    return Object.fromEntries(entries);
  }
}
