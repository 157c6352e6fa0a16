// The figures of a large fleet in the browser test: how long the list, a
// machine's view and the overview take to show, how smoothly they scroll,
// and how many elements the page holds. Printed, never asserted against a
// clock (the machine running the test may be loaded); the only assertion is
// on the page's size, which a virtual list keeps bounded whatever the fleet.
import { domSize, frameStats, scrollFrames } from './ui.mjs';

/**
 * A page holding more elements than this with every card open means the
 * list is no longer virtual: 20 open cards of the unvirtualised list held
 * about 19,000; a virtual list holds a screenful, whatever the fleet's size.
 */
export const MAX_ELEMENTS = 12_000;

const ms = (t0) => Date.now() - t0;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Opens the list view in a new page and waits for the totals and a screenful of cards. */
async function openList(ctx, base, pageErrors) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const t0 = Date.now();
  await page.goto(`${base}/#/list`);
  await page.getByText(/^\d[\d,]* machines online$/).waitFor({ timeout: 60_000 });
  // A screenful: cards down to the bottom of the window.
  await page.waitForFunction(
    () => {
      const cards = document.querySelectorAll('.machine-card');
      return cards.length > 0 && cards[cards.length - 1].getBoundingClientRect().bottom >= window.innerHeight;
    },
    null,
    { timeout: 60_000, polling: 'raf' },
  );
  const took = ms(t0);
  const marks = await page.evaluate(() => {
    const at = (e) => (e ? Math.round(e.startTime) : -1);
    return {
      scripts: at(performance.getEntriesByName('gpumon:scripts-ready')[0]),
      render: at(performance.getEntriesByName('gpumon:render')[0]),
      withFleet: !!performance.getEntriesByName('gpumon:render')[0]?.detail?.withFleet,
      fcp: at(performance.getEntriesByName('first-contentful-paint')[0]),
    };
  });
  return { page, took, marks };
}

/** Cards in the window that show their GPUs: all of them once "Expand all" has done its work. */
const openCardsInView = (page) =>
  page.evaluate(() => {
    const cards = [...document.querySelectorAll('.machine-card')].filter((c) => {
      const r = c.getBoundingClientRect();
      return r.bottom > 60 && r.top < window.innerHeight;
    });
    return { inView: cards.length, open: cards.filter((c) => c.querySelector('.gpu-card')).length };
  });

/**
 * Measures the page at the fleet's size and returns the lines to print, and
 * the largest element count seen.
 */
export async function fleetFigures({ launch, context, base, label, machineKeys, pageErrors, out }) {
  // Every card closed, as a fleet this size opens (the earlier steps opened some).
  const reset = await context.newPage();
  await reset.goto(`${base}/#/usage`);
  await reset.evaluate(() => localStorage.removeItem('gpumon.cards'));
  await reset.close();
  const lines = [];
  const say = (s) => {
    lines.push(`${label}: ${s}`);
    console.log(`figures  ${label}: ${s}`);
  };
  let largest = 0;

  // The list: a first visit, then returning visits (files cached).
  const cold = await launch();
  try {
    const r = await openList(cold, base, pageErrors);
    say(`list, first visit: totals and a screenful of cards in ${r.took} ms (page clock: scripts ${r.marks.scripts}, first render ${r.marks.render} ${r.marks.withFleet ? 'with' : 'before'} the machine list, first paint ${r.marks.fcp})`);
  } finally {
    await cold.close();
  }
  const warm = [];
  let page;
  for (let i = 0; i < 3; i++) {
    const r = await openList(context, base, pageErrors);
    warm.push(r.took);
    if (i < 2) await r.page.close();
    else page = r.page;
  }
  say(`list, returning visit: ${median(warm)} ms (median of ${warm.join(', ')})`);
  let nodes = await domSize(page);
  largest = Math.max(largest, nodes);
  say(`list: ${nodes} elements in the page`);
  say(`list scrolled, cards closed: ${frameStats(await scrollFrames(page)).text}`);

  // Every card open: the cards on screen fetch their machines and draw their GPUs.
  await page.evaluate(() => window.scrollTo(0, 0));
  let t0 = Date.now();
  await page.getByRole('button', { name: 'Expand all' }).click();
  await page.waitForFunction(
    () => {
      const cards = [...document.querySelectorAll('.machine-card')].filter((c) => c.getBoundingClientRect().top < window.innerHeight);
      return cards.length > 0 && cards.every((c) => c.querySelector('.gpu-card'));
    },
    null,
    { timeout: 60_000, polling: 100 },
  );
  say(`expand all: the cards on screen show their GPUs in ${ms(t0)} ms (${JSON.stringify(await openCardsInView(page))})`);
  await page.screenshot({ path: `${out}/${label.replace(/\W+/g, '-')}-expanded.png` });
  say(`list scrolled, cards open: ${frameStats(await scrollFrames(page, { step: 80 })).text}`);
  nodes = await domSize(page);
  largest = Math.max(largest, nodes);
  say(`list with every card open, after scrolling: ${nodes} elements in the page`);
  await page.getByRole('button', { name: 'Collapse all' }).click();

  // A machine's view, from the page already open (client-side), for machines across the fleet.
  const picks = [0, 0.25, 0.5, 0.75, 1].map((f) => machineKeys[Math.min(machineKeys.length - 1, Math.floor(f * (machineKeys.length - 1)))]);
  const views = [];
  for (const key of picks) {
    t0 = Date.now();
    await page.evaluate((k) => (location.hash = `#/window/${encodeURIComponent(k)}`), key);
    await page.getByTestId('window-content').getByRole('heading', { name: key }).waitFor({ timeout: 10_000 });
    await page.getByTestId('window-content').locator('.gpu-card').first().waitFor({ timeout: 10_000 });
    views.push(ms(t0));
  }
  say(`a machine's view with its GPU cards: median ${median(views)} ms, slowest ${Math.max(...views)} ms (${views.join(', ')}; ${picks.join(', ')})`);
  t0 = Date.now();
  await page.goto(`${base}/#/window/${encodeURIComponent(picks[2])}`);
  await page.getByTestId('window-content').locator('.gpu-card').first().waitFor({ timeout: 30_000 });
  say(`a machine's view opened as a link (page load): ${ms(t0)} ms`);
  nodes = await domSize(page);
  largest = Math.max(largest, nodes);
  say(`a machine's view: ${nodes} elements in the page`);

  // The overview: every GPU as a heat-map cell and a row.
  t0 = Date.now();
  await page.evaluate(() => (location.hash = '#/overview'));
  await page.getByTestId('heat-map').waitFor({ timeout: 60_000 });
  await page.getByTestId('gpu-row').first().waitFor({ timeout: 60_000 });
  const cells = await page.getByTestId('heat-map').getAttribute('data-cells');
  say(`overview: ${cells} GPUs as heat-map cells and rows in ${ms(t0)} ms`);
  const first = async () => (await page.getByTestId('gpu-row').first().innerText()).replace(/\s+/g, ' ');
  const before = await first();
  t0 = Date.now();
  await page.getByTestId('sort-free').click();
  await page.waitForFunction((b) => document.querySelector('[data-testid="gpu-row"]')?.textContent && document.querySelector('[data-testid="gpu-row"]').innerText.replace(/\s+/g, ' ') !== b, before, { timeout: 30_000 });
  say(`overview sorted by free memory in ${ms(t0)} ms`);
  await page.screenshot({ path: `${out}/${label.replace(/\W+/g, '-')}-overview.png` });
  say(`overview table scrolled: ${frameStats(await scrollFrames(page, { step: 80 })).text}`);
  nodes = await domSize(page);
  largest = Math.max(largest, nodes);
  say(`overview: ${nodes} elements in the page`);
  await page.close();
  return { lines, largest };
}
