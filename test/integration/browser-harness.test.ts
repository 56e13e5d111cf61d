import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { crawl, launchBrowser, type StaticServer, serveFolder } from '../support/browser.js';

/**
 * The browser harness itself (test/support/browser.ts), on a hand-made site: a clean page passes, and
 * every kind of breakage the report tests rely on it to catch is caught, from file:// and from http://.
 */

// A 1 x 1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const page = (body: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`;

const SITE: Record<string, string> = {
  'index.html': page(
    '<p id="top">index</p><a href="good.html">good</a> <a href="sub/bad.html">bad</a> <a href="good.html#here">anchor</a>',
  ),
  'good.html': page(
    '<p id="here">good</p><img src="img/a.png" alt="a" loading="lazy" style="margin-top:3000px"><svg width="20" height="10"><rect width="20" height="10"/></svg><dialog><img alt="not yet"></dialog><a href="img/a.png">picture</a> <a href="index.html">back</a>',
  ),
  'sub/bad.html': page(
    [
      '<img src="../nope.png" alt="missing" loading="lazy">',
      '<img src="https://example.invalid/a.png" alt="remote">',
      '<svg width="0" height="0"></svg>',
      '<a href="../missing.html">missing page</a>',
      '<a href="../img/none.png">missing picture</a>',
      '<a href="../index.html#nowhere">missing anchor</a>',
      '<a href="../../outside.html">outside</a>',
      '<script>alert("hi"); console.error("boom"); throw new Error("uncaught!")</script>',
    ].join(''),
  ),
  'img/a.png': '',
};

describe('browser harness: crawl', () => {
  let browser: Browser;
  let tab: Page;
  let dir: string;
  let server: StaticServer;

  before(async () => {
    browser = await launchBrowser();
    tab = await browser.newPage();
    dir = await mkdtemp(join(tmpdir(), 'pure-browser-harness-'));
    for (const [path, html] of Object.entries(SITE)) {
      await mkdir(join(dir, 'site', path, '..'), { recursive: true });
      await writeFile(join(dir, 'site', path), path.endsWith('.png') ? PNG : html);
    }
    server = await serveFolder(dir);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const scheme of ['file', 'http'] as const) {
    test(`${scheme}://: the clean pages pass, each breakage is caught`, async () => {
      const root = scheme === 'file' ? `${pathToFileURL(join(dir, 'site')).href}/` : `${server.url}site/`;
      const result = await crawl(tab, { root });
      assert.deepEqual([...result.pages.keys()], ['index.html', 'good.html', 'sub/bad.html', 'missing.html']);
      assert.deepEqual(result.pages.get('index.html')?.problems, []);
      assert.deepEqual(result.pages.get('good.html')?.problems, []);
      const bad = result.pages.get('sub/bad.html')?.problems.join('\n') ?? '';
      for (const expected of [
        /requested https:\/\/example\.invalid\/a\.png, outside/,
        /console error: boom/,
        /uncaught exception: uncaught!/,
        /alert dialog opened: "hi"/,
        /picture not loaded: \.\.\/nope\.png/,
        /picture not loaded: https:\/\/example\.invalid\/a\.png/,
        /svg of size 0 x 0/,
        /links to .*img\/none\.png: (no such file|HTTP 404)/,
        /links to index\.html#nowhere, but index\.html has no element with that id/,
        /links outside .*: .*outside\.html/,
      ]) {
        assert.match(bad, expected);
      }
      assert.match(result.pages.get('missing.html')?.problems.join('\n') ?? '', /did not load/);
      assert.ok(
        result.requests.some((r) => r.endsWith('img/a.png')),
        'the lazy picture far below was loaded',
      );
    });
  }
});
