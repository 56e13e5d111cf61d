import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import {
  browserArtifacts,
  type CrawlResult,
  crawl,
  type DomElement,
  type DomImage,
  type DomWindow,
  launchBrowser,
  type StaticServer,
  serveFolder,
} from '../support/browser.js';
import { projectRoot, sharedDataset, sharedModel, squeezenetEvaluatorArgs } from '../support/paths.js';
import { temporalAddress } from '../support/services.js';

/**
 * The HTML report in a real browser (Chromium, headless): a small real sweep (ResNet-20 layer2 -> layer3
 * over 200 CIFAR-10 images, k 8, 2-3 clusters, with the SqueezeNet evaluator so that the evaluation
 * shows), `pure report` on it, then every page opened from file:// and from a static HTTP server on
 * loopback. Two class folders and one file name of the data set are HTML: they must show as text.
 *
 * The second describe checks what the pages offer (a page per neuron, a sortable, searchable, paginated
 * layer index, zoomable galleries, charts, assets/report.{css,js}) by using them as a reader would.
 */

const cli = join(projectRoot, 'dist', 'cli', 'main.js');
const LOWER = '/layer2/layer2.2/Relu_1_output_0';
const UPPER = '/layer3/layer3.2/Relu_1_output_0';
const PAGE_ROWS = 50;
/** Class folders (labels) and a file name that are HTML; no `/` is possible in a name. */
const HOSTILE_CLASSES: Record<string, string> = {
  cat: '<img src=x onerror=alert(1)>',
  dog: `"'><b>bold`,
};
const HOSTILE_FILE = '<img src=y onerror=alert(2)>.jpg';
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const PER_CLASS = 20;

const run = promisify(execFile);

/**
 * 200 CIFAR-10 test images in class folders, copied (the dataset lists files, not links): the cat and
 * dog folders named as HTML, and in every folder the first image named as HTML too.
 */
async function hostileDataset(dir: string): Promise<void> {
  for (const cls of CLASSES) {
    const folder = join(dir, HOSTILE_CLASSES[cls] ?? cls);
    await mkdir(folder, { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const file = `${String(i).padStart(4, '0')}.jpg`;
      await copyFile(
        join(sharedDataset('cifar10-test'), cls, file),
        join(folder, i === 0 ? HOSTILE_FILE : file),
      );
    }
  }
}

/**
 * `pure run` on the hostile data set (ResNet-20 layer2 -> layer3, k 8, 2-3 clusters, the SqueezeNet
 * evaluator; in-process worker on the shared Temporal server), then `pure report`; returns the run folder.
 */
async function runAndReport(dir: string, address: string, timings: string[]): Promise<string> {
  await hostileDataset(join(dir, 'data'));
  let t0 = Date.now();
  await run(
    process.execPath,
    [
      cli,
      'run',
      '--model',
      sharedModel('resnet20-cifar10.onnx'),
      '--data',
      join(dir, 'data'),
      '--layers',
      `${LOWER},${UPPER}`,
      '-k',
      '8',
      '--clusters',
      '2,3',
      ...squeezenetEvaluatorArgs(),
      '--out',
      join(dir, 'out'),
      '--state-dir',
      join(dir, 'state'),
      '--temporal',
      address,
      '--queue-prefix',
      `report-browser-${randomUUID()}`,
      '--threads',
      '1',
    ],
    { timeout: 240_000 },
  );
  timings.push(`pure run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const runs = await readdir(join(dir, 'out'));
  assert.equal(runs.length, 1, 'one run');
  const runDir = join(dir, 'out', runs[0]!);
  t0 = Date.now();
  await run(process.execPath, [cli, 'report', runDir], { timeout: 240_000 });
  timings.push(`pure report ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return runDir;
}

/** A layer the report explains: its position in config.layers (page names) and its neurons. */
interface Explained {
  layer: string;
  index: number;
  neurons: number[];
}

async function explainedLayers(runDir: string): Promise<Explained[]> {
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as SweepConfig;
  const db = await openDuckDB();
  try {
    await createRunViews(db, runDir);
    const rows = (
      await db.runAndReadAll('SELECT layer, neuron FROM neurons ORDER BY layer, neuron')
    ).getRows();
    const byLayer = new Map<string, number[]>();
    for (const [layer, neuron] of rows) {
      byLayer.set(String(layer), [...(byLayer.get(String(layer)) ?? []), Number(neuron)]);
    }
    return [...byLayer]
      .map(([layer, neurons]) => ({ layer, index: config.layers.indexOf(layer), neurons }))
      .sort((a, b) => a.index - b.index);
  } finally {
    db.closeSync();
  }
}

/** What the report's contract asks of a page, as found on it (null: the element is not there). */
interface ContractFacts {
  /** `figure.chart svg` in `section[data-test=overview]`. */
  overviewCharts: number | null;
  /** `href`s of links to layer indexes, as written. */
  layerLinks: string[];
  neuronIndex: {
    rows: string[];
    /** Neurons whose row links to `layer-<i>/neuron-<c>.html`. */
    linked: string[];
    sortable: number;
    searchType: string | null;
    pagerButtons: number | null;
  } | null;
  galleries: Record<'pure' | 'activation', { vns: number; zooms: number } | null>;
  circuitMap: boolean;
  candidateCurve: boolean;
  circuitTables: number;
  circuitLinks: string[];
  /** Stylesheet and script URLs as written, and resolved. */
  stylesheets: { href: string; url: string }[];
  scripts: { href: string; url: string }[];
}

async function contractFacts(page: Page, layerIndex: number | null): Promise<ContractFacts> {
  return page.evaluate((layerIndex) => {
    const d = (globalThis as unknown as DomWindow).document;
    const all = (root: DomElement | DomWindow['document'], selector: string) => [
      ...root.querySelectorAll(selector),
    ];
    const overview = d.querySelector('section[data-test=overview]');
    const table = d.querySelector('table.neuron-index');
    const rows = table ? all(table, 'tr[data-neuron]') : [];
    const gallery = (method: string) => {
      const g = d.querySelector(`.gallery[data-method=${method}]`);
      return g ? { vns: all(g, '.vn').length, zooms: all(g, '.vn a.zoom > img').length } : null;
    };
    const resolved = (selector: string, attribute: string) =>
      all(d, selector).map((e) => {
        const href = e.getAttribute(attribute) ?? '';
        return {
          href,
          url: new URL(href, (globalThis as unknown as { location: { href: string } }).location.href).href,
        };
      });
    return {
      overviewCharts: overview ? all(overview, 'figure.chart svg').length : null,
      layerLinks: all(d, 'a[href]')
        .map((a) => a.getAttribute('href') ?? '')
        .filter((h) => /^layer-\d+\.html$/.test(h)),
      neuronIndex: table
        ? {
            rows: rows.map((r) => r.getAttribute('data-neuron') ?? ''),
            linked: rows
              .filter(
                (r) =>
                  r.querySelector(
                    `a[href="layer-${layerIndex}/neuron-${r.getAttribute('data-neuron')}.html"]`,
                  ) !== null,
              )
              .map((r) => r.getAttribute('data-neuron') ?? ''),
            sortable: all(table, 'th[data-sort]').length,
            searchType: d.querySelector('input#neuron-search')?.getAttribute('type') ?? null,
            pagerButtons: d.querySelector('.pager') ? all(d, '.pager button, .pager a').length : null,
          }
        : null,
      galleries: { pure: gallery('pure'), activation: gallery('activation') },
      circuitMap: d.querySelector('figure.circuit-map svg') !== null,
      candidateCurve: d.querySelector('figure.candidate-curve svg') !== null,
      circuitTables: all(d, 'table.circuit').length,
      circuitLinks: all(d, 'table.circuit a[href]').map((a) => a.getAttribute('href') ?? ''),
      stylesheets: resolved('link[rel=stylesheet]', 'href'),
      scripts: resolved('script[src]', 'src'),
    };
  }, layerIndex);
}

/** Where the hostile names went on a page: injected markup (problems) and the names found as text. */
async function hostileCheck(page: Page): Promise<{ problems: string[]; found: string[] }> {
  const names = [...Object.values(HOSTILE_CLASSES), HOSTILE_FILE];
  return page.evaluate((names) => {
    const d = (globalThis as unknown as DomWindow).document;
    const problems: string[] = [];
    const injected = [
      ...d.querySelectorAll('img[src=x], img[src=y], [onerror*=alert]'),
      ...[...d.querySelectorAll('b')].filter((b) => (b.textContent ?? '').startsWith('bold')),
    ];
    for (const e of injected) problems.push(`injected markup: ${e.outerHTML.slice(0, 120)}`);
    // Text as the user reads it: the page's text and the hover texts and alternative texts.
    const texts = [d.body.textContent ?? ''];
    for (const e of d.querySelectorAll('[title], [alt], [aria-label]')) {
      for (const a of ['title', 'alt', 'aria-label']) texts.push(e.getAttribute(a) ?? '');
    }
    for (const t of texts) {
      const entity = /&(lt|gt|quot|#39|#x27|amp);/.exec(t);
      if (entity)
        problems.push(
          `escaped twice: ${JSON.stringify(t.slice(Math.max(0, entity.index - 40), entity.index + 40))}`,
        );
    }
    return { problems, found: names.filter((n) => texts.some((t) => t.includes(n))) };
  }, names);
}

describe('the HTML report in a browser', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  let runDir: string;
  let reportUrl: string;
  let server: StaticServer;
  let explained: Explained[];
  const facts = new Map<string, ContractFacts>();
  const hostileFound = new Set<string>();
  let fileCrawl: CrawlResult | undefined;
  const timings: string[] = [];

  /** Why the set-up failed (no browser, no Temporal, a failed run): every test then fails with it. */
  let setupError: unknown;
  const browserTest = (name: string, fn: (t: TestContext) => Promise<void>) =>
    test(name, async (t) => {
      if (setupError) throw setupError;
      await fn(t);
    });

  before(async () => {
    try {
      // The browser first: without one the tests fail at once, saying how to install it.
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const address = await temporalAddress();
      await rm(browserArtifacts, { recursive: true, force: true });
      dir = await mkdtemp(join(tmpdir(), 'pure-report-browser-'));
      runDir = await runAndReport(dir, address, timings);
      explained = await explainedLayers(runDir);
      assert.ok(explained.length > 0, 'the run explains a layer');
      reportUrl = `${pathToFileURL(join(runDir, 'report')).href}/`;
      server = await serveFolder(runDir);
    } catch (e) {
      setupError = e;
    }
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The checks every crawl runs on each page beyond the crawler's own: the hostile names, the contract's facts. */
  const pageChecks = (record: boolean) => async (p: Page, path: string) => {
    const hostile = await hostileCheck(p);
    for (const name of hostile.found) hostileFound.add(name);
    if (record) {
      const layer = /^layer-(\d+)\.html$/.exec(path)?.[1];
      facts.set(path, await contractFacts(p, layer === undefined ? null : Number(layer)));
    }
    return hostile.problems;
  };

  /** The file:// crawl, once: its first test runs it, the tests after it read what it found. */
  const crawlFile = async (): Promise<CrawlResult> => {
    if (!fileCrawl) {
      const t0 = Date.now();
      fileCrawl = await crawl(page, {
        root: reportUrl,
        screenshots: { dir: browserArtifacts, prefix: 'file-' },
        check: pageChecks(true),
      });
      timings.push(`file:// crawl ${fileCrawl.pages.size} pages ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return fileCrawl;
  };

  browserTest(
    'file://: every page loads cleanly (links, pictures, charts; no errors; nothing outside the report)',
    async (t) => {
      const result = await crawlFile();
      t.diagnostic(timings.join(', '));
      t.diagnostic(`screenshots: ${result.screenshots.join(', ')}`);
      assert.ok(result.pages.size >= 1 + explained.length, 'the index and a page per explained layer');
      assert.deepEqual(result.problems, []);
    },
  );

  browserTest(
    'http:// on loopback: the same, served as a static website (nothing from another origin)',
    async (t) => {
      const t0 = Date.now();
      const result = await crawl(page, { root: `${server.url}report/`, check: pageChecks(false) });
      t.diagnostic(`http:// crawl ${result.pages.size} pages ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      assert.deepEqual(result.problems, []);
      if (fileCrawl) assert.deepEqual([...result.pages.keys()].sort(), [...fileCrawl.pages.keys()].sort());
      // The browser asks for /favicon.ico by itself (pages without an icon): not the report's request.
      const outside = server.requests.filter((p) => !p.startsWith('/report/') && p !== '/favicon.ico');
      assert.deepEqual(outside, [], 'the server was asked only for files of the report');
    },
  );

  browserTest('class and file names that are HTML show as text, never as markup', async () => {
    const injected = (await crawlFile()).problems.filter((p) =>
      /injected markup|escaped twice|dialog opened/.test(p),
    );
    assert.deepEqual(injected, []);
    assert.deepEqual(
      [...hostileFound].sort(),
      [...Object.values(HOSTILE_CLASSES), HOSTILE_FILE].sort(),
      'each HTML-like label and file name shows as literal text somewhere in the report',
    );
  });

  describe('the pages as a reader uses them', () => {
    const layerPage = (e: Explained) => `layer-${e.index}.html`;
    const neuronPage = (e: Explained, neuron: number) => `layer-${e.index}/neuron-${neuron}.html`;
    const factsOf = async (path: string): Promise<ContractFacts> => {
      await crawlFile();
      const f = facts.get(path);
      assert.ok(f, `${path} was not reached from index.html`);
      return f;
    };
    /** Opens a layer index and checks it has its table. */
    const openLayerIndex = async (e: Explained) => {
      await page.goto(reportUrl + layerPage(e));
      assert.ok(
        (await page.locator('table.neuron-index').count()) > 0,
        `${layerPage(e)} has no table.neuron-index`,
      );
    };
    const rowOrder = (p: Page) =>
      p.evaluate(() =>
        [
          ...(globalThis as unknown as DomWindow).document.querySelectorAll(
            'table.neuron-index tr[data-neuron]',
          ),
        ].map((r) => r.getAttribute('data-neuron') ?? ''),
      );
    const visibleRows = (p: Page) =>
      p.evaluate(() =>
        [
          ...(globalThis as unknown as DomWindow).document.querySelectorAll(
            'table.neuron-index tr[data-neuron]',
          ),
        ]
          .filter((r) => r.checkVisibility())
          .map((r) => r.getAttribute('data-neuron') ?? ''),
      );

    browserTest(
      'index.html: an overview with a chart per explained layer, linking to every layer index',
      async () => {
        const index = await factsOf('index.html');
        assert.ok(index.overviewCharts !== null, 'index.html has no section[data-test=overview]');
        assert.ok(
          index.overviewCharts >= explained.length,
          `${index.overviewCharts} figure.chart svg in the overview for ${explained.length} explained layers`,
        );
        for (const e of explained)
          assert.ok(index.layerLinks.includes(layerPage(e)), `index.html links to ${layerPage(e)}`);
      },
    );

    browserTest(
      'layer-<i>.html: table.neuron-index has a row per neuron (all of them), each linked to its page',
      async () => {
        for (const e of explained) {
          const index = (await factsOf(layerPage(e))).neuronIndex;
          assert.ok(index, `${layerPage(e)} has no table.neuron-index`);
          const all = e.neurons.map(String);
          assert.deepEqual(
            [...index.rows].sort(),
            [...all].sort(),
            `${layerPage(e)}: one tr[data-neuron] per neuron`,
          );
          assert.deepEqual(
            [...index.linked].sort(),
            [...all].sort(),
            'each row links to layer-<i>/neuron-<c>.html',
          );
          assert.ok(index.sortable > 0, 'th[data-sort] column headers');
          assert.equal(index.searchType, 'search', 'input#neuron-search of type search');
          assert.ok(index.pagerButtons !== null && index.pagerButtons > 0, '.pager with page buttons');
        }
      },
    );

    browserTest(
      'layer-<i>/neuron-<c>.html: both galleries, circuit map, candidate curve, a circuit table per PURE virtual neuron',
      async () => {
        for (const e of explained) {
          for (const neuron of e.neurons) {
            const path = neuronPage(e, neuron);
            const f = await factsOf(path);
            for (const method of ['pure', 'activation'] as const) {
              const g = f.galleries[method];
              assert.ok(g, `${path}: .gallery[data-method=${method}]`);
              assert.ok(
                g.vns > 0 && g.zooms >= g.vns,
                `${path}: ${method} .vn blocks with a.zoom > img thumbnails`,
              );
            }
            assert.ok(f.circuitMap, `${path}: figure.circuit-map svg`);
            assert.ok(f.candidateCurve, `${path}: figure.candidate-curve svg`);
            assert.equal(
              f.circuitTables,
              f.galleries.pure?.vns,
              `${path}: a table.circuit per PURE virtual neuron`,
            );
            for (const href of f.circuitLinks) {
              assert.match(
                href,
                /^\.\.\/layer-\d+\/neuron-\d+\.html$/,
                `${path}: circuit links go to neuron pages`,
              );
            }
          }
        }
      },
    );

    browserTest('every page links assets/report.css and assets/report.js relatively', async () => {
      for (const path of (await crawlFile()).pages.keys()) {
        const f = await factsOf(path);
        for (const [what, list, asset] of [
          ['stylesheet', f.stylesheets, 'assets/report.css'],
          ['script', f.scripts, 'assets/report.js'],
        ] as const) {
          const found = list.find((l) => l.url === reportUrl + asset);
          assert.ok(found, `${path}: no ${what} ${asset}`);
          assert.ok(
            !/^([a-z]+:|\/)/i.test(found.href),
            `${path}: ${asset} linked relatively, not as ${found.href}`,
          );
        }
      }
    });

    browserTest(
      'layer index: clicking a column header sorts the rows by it, again the other way',
      async () => {
        const e = explained[0]!;
        await openLayerIndex(e);
        const columns = await page.evaluate(() => {
          const d = (globalThis as unknown as DomWindow).document;
          return [...d.querySelectorAll('table.neuron-index th[data-sort]')].map((th) => {
            const index = [...(th.parentElement?.querySelectorAll(':scope > th, :scope > td') ?? [])].indexOf(
              th,
            );
            return { index, name: th.getAttribute('data-sort') ?? '' };
          });
        });
        assert.ok(columns.length > 0, 'th[data-sort] headers');
        const values = (column: number) =>
          page.evaluate((column) => {
            const d = (globalThis as unknown as DomWindow).document;
            return [...d.querySelectorAll('table.neuron-index tr[data-neuron]')].map((r) => {
              const cell = [...r.querySelectorAll(':scope > td, :scope > th')][column];
              return (
                cell?.getAttribute('data-value') ??
                cell?.getAttribute('data-sort-value') ??
                cell?.textContent?.trim() ??
                ''
              );
            });
          }, column);
        // A column the rows are not already sorted by, so that sorting must move them.
        let chosen = columns[0]!;
        for (const c of columns) {
          if (sortDirection(await values(c.index)) === null) {
            chosen = c;
            break;
          }
        }
        const header = page.locator(`table.neuron-index th[data-sort="${chosen.name}"]`).first();
        const before = await rowOrder(page);
        await header.click();
        await waitForOrderChange(page, before);
        const first = sortDirection(await values(chosen.index));
        assert.ok(
          first === 1 || first === -1,
          `rows sorted by ${chosen.name} after one click: ${(await values(chosen.index)).join(' ')}`,
        );
        const once = await rowOrder(page);
        await header.click();
        await waitForOrderChange(page, once);
        const second = sortDirection(await values(chosen.index));
        assert.ok(
          (second === 1 || second === -1) && second !== first,
          `rows sorted the other way by ${chosen.name} after two clicks`,
        );
      },
    );

    browserTest(
      'layer index: the search box finds a neuron on a later page; Enter opens its page',
      async () => {
        const e = explained[0]!;
        await openLayerIndex(e);
        const rows = await rowOrder(page);
        const target = rows[rows.length - 1]!;
        const search = page.locator('input#neuron-search');
        assert.equal(await search.count(), 1, 'input#neuron-search');
        await search.fill(target);
        await page
          .locator(`table.neuron-index tr[data-neuron="${target}"]`)
          .waitFor({ state: 'visible', timeout: 5000 });
        assert.ok(
          (await visibleRows(page)).includes(target),
          `neuron ${target} shows after searching for it`,
        );
        await Promise.all([
          page.waitForURL(`**/neuron-${target}.html`, { timeout: 5000 }),
          search.press('Enter'),
        ]);
        assert.equal(await page.locator('.gallery[data-method=pure]').count(), 1, 'the neuron page opened');
      },
    );

    browserTest(
      'layer index: 50 rows a page, the pager reaches the last page; without JavaScript every row shows',
      async () => {
        const e = explained[0]!;
        await openLayerIndex(e);
        const rows = await rowOrder(page);
        const pages = Math.ceil(rows.length / PAGE_ROWS);
        assert.ok(pages > 1, `${rows.length} neurons: more than one page, or the test proves nothing`);
        assert.equal((await visibleRows(page)).length, PAGE_ROWS, 'the first page shows 50 rows');
        const buttons = page.locator('.pager button, .pager a');
        assert.ok((await buttons.count()) > 0, '.pager buttons');
        const last = rows[rows.length - 1]!;
        const lastRow = page.locator(`table.neuron-index tr[data-neuron="${last}"]`);
        const numbered = buttons.filter({ hasText: new RegExp(`^\\s*${pages}\\s*$`) });
        if ((await numbered.count()) > 0) await numbered.first().click();
        else for (let i = 1; i < pages && !(await lastRow.isVisible()); i++) await buttons.last().click();
        await lastRow.waitFor({ state: 'visible', timeout: 5000 });
        assert.equal(
          (await visibleRows(page)).length,
          rows.length - PAGE_ROWS * (pages - 1),
          'the last page',
        );

        const noScript = await browser.newContext({ javaScriptEnabled: false });
        try {
          const p = await noScript.newPage();
          await p.goto(reportUrl + layerPage(e));
          assert.equal((await visibleRows(p)).length, rows.length, 'without JavaScript every row shows');
        } finally {
          await noScript.close();
        }
      },
    );

    browserTest(
      'neuron page: clicking a thumbnail opens dialog#zoom with a larger, loaded picture',
      async () => {
        const e = explained[0]!;
        const path = neuronPage(e, e.neurons[0]!);
        await page
          .goto(reportUrl + path)
          .catch((e: Error) => assert.fail(`${path} does not open: ${e.message.split('\n')[0]}`));
        const zoom = page.locator('a.zoom').first();
        assert.ok((await page.locator('a.zoom').count()) > 0, `${path} has no a.zoom`);
        const thumbWidth = (await zoom.locator('img').boundingBox())?.width ?? 0;
        await zoom.click();
        await page.locator('dialog#zoom[open]').waitFor({ state: 'visible', timeout: 5000 });
        await page.waitForFunction(
          () => {
            const img = (globalThis as unknown as DomWindow).document.querySelector(
              'dialog#zoom img',
            ) as DomImage | null;
            return img?.complete && img.naturalWidth > 0;
          },
          undefined,
          { timeout: 5000 },
        );
        const width = (await page.locator('dialog#zoom img').first().boundingBox())?.width ?? 0;
        assert.ok(
          width > thumbWidth,
          `the zoomed picture (${width} px) is larger than the thumbnail (${thumbWidth} px)`,
        );
      },
    );
  });
});

/**
 * 1 ascending, -1 descending, 0 all equal, null unsorted (numbers compared as numbers; blanks and dashes
 * skipped).
 */
function sortDirection(values: string[]): 1 | -1 | 0 | null {
  const present = values.filter((v) => v !== '' && v !== '–' && v !== '-');
  const asNumber = (v: string) => Number(v.replace('−', '-').replace('∞', 'Infinity'));
  const numeric = present.every((v) => !Number.isNaN(asNumber(v)));
  const cmp = (a: string, b: string) => (numeric ? asNumber(a) - asNumber(b) : a.localeCompare(b));
  let up = true;
  let down = true;
  for (let i = 1; i < present.length; i++) {
    const c = cmp(present[i - 1]!, present[i]!);
    if (c > 0) up = false;
    if (c < 0) down = false;
  }
  if (up && down) return 0;
  return up ? 1 : down ? -1 : null;
}

/** Waits until the rows of table.neuron-index are no longer in `before`'s order. */
async function waitForOrderChange(page: Page, before: string[]): Promise<void> {
  await page
    .waitForFunction(
      (before) =>
        [
          ...(globalThis as unknown as DomWindow).document.querySelectorAll(
            'table.neuron-index tr[data-neuron]',
          ),
        ]
          .map((r) => r.getAttribute('data-neuron') ?? '')
          .join(',') !== before,
      before.join(','),
      { timeout: 5000 },
    )
    .catch(() => assert.fail('clicking the column header did not reorder the rows'));
}
