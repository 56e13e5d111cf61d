/** A key or store URI that the object store refuses (absolute, '..', empty segments, unknown scheme...). */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

/**
 * Keys are relative, '/'-separated paths below a store's root: `run1/references/layer=x/part-0-99.parquet`.
 * No leading '/', no empty, '.' or '..' segments, no NUL. The same key names the same object in every back end.
 */

/**
 * One arbitrary string (a layer name such as '/layer1/layer1.2/Relu_1_output_0') as one safe key segment:
 * '%2Flayer1%2Flayer1.2%2FRelu_1_output_0'. Letters, digits, '.', '_' and '-' stay readable; every other
 * character ('/', '%', '=', space, ':', non-ASCII...) becomes %XX per UTF-8 byte, which is safe in S3 keys, file
 * names on every OS, and Hive partition values. '.' and '..' are escaped too, so the result is never a path
 * dot segment. DuckDB URL-decodes Hive partition values when reading (and encodes them this way when it writes
 * PARTITION_BY), so `layer=<escaped>` reads back as the original name.
 */
export function escapeKeySegment(s: string): string {
  if (s.length === 0) throw new InvalidKeyError('cannot escape an empty string as a key segment');
  if (s === '.' || s === '..') return s === '.' ? '%2E' : '%2E%2E';
  let encoded: string;
  try {
    encoded = encodeURIComponent(s);
  } catch (e) {
    throw new InvalidKeyError(
      `cannot escape a string with a lone UTF-16 surrogate as a key segment: ${JSON.stringify(s)}`,
      {
        cause: e,
      },
    );
  }
  // encodeURIComponent leaves !~*'() as they are; they are not safe everywhere (Hive, shells, some S3 tools).
  return encoded.replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const ESCAPED = /^(?:[A-Za-z0-9._-]|%[0-9A-F]{2})+$/;

/** Inverse of escapeKeySegment; rejects anything escapeKeySegment cannot have produced. */
export function unescapeKeySegment(s: string): string {
  if (!ESCAPED.test(s)) {
    throw new InvalidKeyError(
      `not an escaped key segment: ${JSON.stringify(s)} (expected letters, digits, '.', '_', '-' and %XX with upper-case hex)`,
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch (e) {
    throw new InvalidKeyError(`not an escaped key segment: ${JSON.stringify(s)} (invalid UTF-8)`, {
      cause: e,
    });
  }
  if (escapeKeySegment(decoded) !== s) {
    throw new InvalidKeyError(
      `not the canonical escaping of ${JSON.stringify(decoded)}: ${JSON.stringify(s)} (expected ${JSON.stringify(escapeKeySegment(decoded))})`,
    );
  }
  return decoded;
}

/** Throws InvalidKeyError unless `key` is a valid object key (see the rules at the top of this module). */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError('empty object key');
  checkSegments(key, 'object key');
  return key;
}

/**
 * Normalises a list prefix: '' (everything) or a relative folder-like path; one trailing '/' is allowed and
 * dropped. Listing 'a/b' returns the keys under 'a/b/', never 'a/bc'.
 */
export function normalizePrefix(prefix: string): string {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p.length === 0) return '';
  checkSegments(p, 'list prefix');
  return p;
}

function checkSegments(key: string, what: string): void {
  if (key.startsWith('/')) {
    throw new InvalidKeyError(
      `${what} must be relative to the store root, got the absolute ${JSON.stringify(key)}`,
    );
  }
  if (key.includes('\0'))
    throw new InvalidKeyError(`${what} contains a NUL character: ${JSON.stringify(key)}`);
  if (key.includes('\\')) {
    throw new InvalidKeyError(
      `${what} contains a backslash (keys are '/'-separated): ${JSON.stringify(key)}`,
    );
  }
  for (const seg of key.split('/')) {
    if (seg === '')
      throw new InvalidKeyError(
        `${what} has an empty segment ('//' or a trailing '/'): ${JSON.stringify(key)}`,
      );
    if (seg === '.' || seg === '..') {
      throw new InvalidKeyError(`${what} must not contain '${seg}' segments: ${JSON.stringify(key)}`);
    }
  }
}

/**
 * Joins key parts with '/', dropping empty parts and the slashes at the joins: joinKey('run1/', 'references',
 * 'layer=x', 'part.parquet') === 'run1/references/layer=x/part.parquet'. The result is validated: no absolute
 * first part, no '.'/'..' segments. Parts are not escaped; use escapeKeySegment for arbitrary names.
 */
export function joinKey(...parts: string[]): string {
  const first = parts.find((p) => p.length > 0);
  if (first?.startsWith('/')) {
    throw new InvalidKeyError(
      `joinKey: the first part must be relative, got the absolute ${JSON.stringify(first)}`,
    );
  }
  const trimmed = parts.map((p) => p.replace(/^\/+/, '').replace(/\/+$/, '')).filter((p) => p.length > 0);
  if (trimmed.length === 0) throw new InvalidKeyError('joinKey: no non-empty parts');
  return validateKey(trimmed.join('/'));
}

/** Orders keys by their UTF-8 bytes, as S3 ListObjectsV2 does, so both back ends list in the same order. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
