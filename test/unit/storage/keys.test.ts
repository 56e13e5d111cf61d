import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareKeys,
  escapeKeySegment,
  InvalidKeyError,
  joinKey,
  normalizePrefix,
  unescapeKeySegment,
  validateKey,
} from '../../../core/adapters/storage/index.js';
import { seededRandom } from '../../support/random.js';

/** Characters that stress escaping: separators, '%', Hive and URL specials, controls, non-ASCII, astral. */
const ALPHABET = [
  ...'abcXYZ019._-',
  ...'/%=+ :?#&$@,;*\'"()!~[]{}^`|<>\\',
  '\u0000',
  '\t',
  '\n',
  '\u007f',
  'ä',
  'ß',
  '€',
  '中',
  '😀',
  '\u{1F9EA}',
];

function randomString(rand: () => number): string {
  const len = 1 + Math.floor(rand() * 24);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

describe('escapeKeySegment / unescapeKeySegment', () => {
  test('layer names become one readable segment', () => {
    assert.equal(
      escapeKeySegment('/layer1/layer1.2/Relu_1_output_0'),
      '%2Flayer1%2Flayer1.2%2FRelu_1_output_0',
    );
    assert.equal(escapeKeySegment('stage3.out-0'), 'stage3.out-0');
    assert.equal(escapeKeySegment('100%'), '100%25');
    assert.equal(escapeKeySegment('a b=c'), 'a%20b%3Dc');
    assert.equal(escapeKeySegment("it's(x)!~*"), 'it%27s%28x%29%21%7E%2A');
    assert.equal(escapeKeySegment('ä'), '%C3%A4');
    assert.equal(escapeKeySegment('.'), '%2E');
    assert.equal(escapeKeySegment('..'), '%2E%2E');
  });

  test('round-trips 5,000 generated strings; output is a single safe segment', () => {
    const rand = seededRandom(20240410);
    for (let i = 0; i < 5000; i++) {
      const s = randomString(rand);
      const e = escapeKeySegment(s);
      assert.match(e, /^(?:[A-Za-z0-9._-]|%[0-9A-F]{2})+$/, `escape(${JSON.stringify(s)}) = ${e}`);
      assert.notEqual(e, '.');
      assert.notEqual(e, '..');
      assert.equal(unescapeKeySegment(e), s);
      assert.doesNotThrow(() => validateKey(`run/layer=${e}/part.parquet`));
    }
  });

  test('is injective: distinct inputs never collide', () => {
    const rand = seededRandom(7);
    const seen = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const s = randomString(rand);
      const e = escapeKeySegment(s);
      const before = seen.get(e);
      if (before !== undefined) assert.equal(before, s);
      seen.set(e, s);
    }
  });

  test('agrees with decodeURIComponent (what DuckDB applies to Hive partition values)', () => {
    const rand = seededRandom(99);
    for (let i = 0; i < 1000; i++) {
      const s = randomString(rand);
      assert.equal(decodeURIComponent(escapeKeySegment(s)), s);
    }
  });

  test('rejects what it cannot represent or did not produce', () => {
    assert.throws(() => escapeKeySegment(''), InvalidKeyError);
    assert.throws(() => escapeKeySegment('a\uD800b'), InvalidKeyError); // lone surrogate
    assert.throws(() => unescapeKeySegment(''), InvalidKeyError);
    assert.throws(() => unescapeKeySegment('a/b'), InvalidKeyError);
    assert.throws(() => unescapeKeySegment('a%2'), InvalidKeyError);
    assert.throws(() => unescapeKeySegment('a%2f'), InvalidKeyError); // lower-case hex is not canonical
    assert.throws(() => unescapeKeySegment('%41'), InvalidKeyError); // 'A' need not be escaped
    assert.throws(() => unescapeKeySegment('%FF'), InvalidKeyError); // not UTF-8
    assert.throws(() => unescapeKeySegment('a b'), InvalidKeyError);
  });
});

describe('keys', () => {
  test('joinKey joins, trims slashes at the joins, and validates', () => {
    assert.equal(
      joinKey('run1/', 'references', '/layer=x/', 'part.parquet'),
      'run1/references/layer=x/part.parquet',
    );
    assert.equal(joinKey('', 'a', '', 'b'), 'a/b');
    assert.equal(joinKey('a/b', 'c'), 'a/b/c');
    assert.throws(() => joinKey('/abs', 'x'), /absolute/);
    assert.throws(() => joinKey('a', '..', 'b'), /'\.\.'/);
    assert.throws(() => joinKey('a', './b'), /'\.'/);
    assert.throws(() => joinKey('', ''), InvalidKeyError);
  });

  test('validateKey rejects absolute keys, dot segments and empty segments', () => {
    for (const bad of ['', '/a', 'a//b', 'a/', '..', 'a/../b', './a', 'a/.', 'a\\b', 'a\0b']) {
      assert.throws(() => validateKey(bad), InvalidKeyError, JSON.stringify(bad));
    }
    for (const ok of ['a', 'a/b.c', '...', 'a/..b/c', 'layer=%2Fx/part-0-9.parquet', '.hidden']) {
      assert.equal(validateKey(ok), ok);
    }
  });

  test('normalizePrefix allows the empty prefix and one trailing slash', () => {
    assert.equal(normalizePrefix(''), '');
    assert.equal(normalizePrefix('/'), '');
    assert.equal(normalizePrefix('a/b/'), 'a/b');
    assert.throws(() => normalizePrefix('/a'), InvalidKeyError);
    assert.throws(() => normalizePrefix('a/../b'), InvalidKeyError);
  });

  test('compareKeys orders by UTF-8 bytes (as S3 lists)', () => {
    // JS's default sort compares UTF-16 code units and puts U+10000 (0xD800 0xDC00) before U+E000;
    // in UTF-8 (0xF0... vs 0xEE...) U+E000 comes first, as S3 returns them.
    const keys = ['\u{10000}', '\uE000', 'b', 'a/b', 'a', 'a-b', 'A'];
    assert.deepEqual([...keys].sort(compareKeys), ['A', 'a', 'a-b', 'a/b', 'b', '\uE000', '\u{10000}']);
  });
});
