// The README's screenshots, taken from a real hub in `make demo`'s state:
// deploy/demo.sh (a hub, a local agent with simulated GPUs and real job
// processes, a dozen loadgen machines) on free ports and a temporary data
// directory, driven with Debian's Chromium.
//
//   make screenshots          (builds first; writes docs/screenshots/*.png)
//
// GPUMON_SHOTS_WAIT (seconds, default 150) is how long the demo runs first,
// so that there is history, and jobs have started and ended.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, waitFor } from './ui.mjs';

const webui = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(webui, '..');
const OUT = path.resolve(root, process.env.GPUMON_SHOTS_DIR ?? 'docs/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT_S = Math.max(0, Number(process.env.GPUMON_SHOTS_WAIT ?? 150));
/** The local agent's name in the pictures (the machine's own hostname otherwise). */
const HOST = 'dgx-01';



async function main() {
  for (const b of ['gpumon-hub', 'gpumon-agent', 'gpumon-loadgen']) {
    if (!existsSync(path.join(root, 'bin', b))) throw new Error(`bin/${b} is missing: run make build`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gpumon-shots-'));
  const [http, grpc] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${http}`;
  const logs = [];
  // Its own process group: demo.sh stops the hub, agent and loadgen on SIGINT.
  const demo = spawn(path.join(root, 'deploy/demo.sh'), [], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GPUMON_HTTP_ADDR: `127.0.0.1:${http}`,
      GPUMON_GRPC_ADDR: `127.0.0.1:${grpc}`,
      GPUMON_DATA_DIR: path.join(tmp, 'data'),
      GPUMON_HOSTNAME: HOST,
      GPUMON_DEMO_FLEET: '12',
    },
  });
  demo.stdout.on('data', (d) => logs.push(String(d)));
  demo.stderr.on('data', (d) => logs.push(String(d)));
  const exited = new Promise((r) => demo.on('exit', r));
  let browser;
  try {
    await waitFor(async () => {
      const r = await (await fetch(`${base}/api/v1/machines`)).json();
      return (r.machines ?? []).filter((m) => m.online).length >= 13;
    }, 120_000, 'the demo: 13 machines online');
    console.log(`demo up at ${base}; letting it run ${WAIT_S} s`);
    await new Promise((r) => setTimeout(r, WAIT_S * 1000));
    const admin = (await readFile(path.join(tmp, 'data', 'demo-admin-token'), 'utf8')).trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--font-render-hinting=none'] });
    await mkdir(OUT, { recursive: true });
    const shots = [];
    const take = async (name, url, { width = 1280, height = 800, theme = 'light', scale = 1, ready, before } = {}) => {
      const ctx = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: scale, locale: 'en-US', colorScheme: theme });
      await ctx.addInitScript(
        ([token, theme]) => localStorage.setItem('gpumon.settings', JSON.stringify({ adminToken: token, theme, language: 'en' })),
        [admin, theme],
      );
      const page = await ctx.newPage();
      await page.goto(`${base}/#${url}`);
      await page.locator(ready).first().waitFor({ state: 'attached', timeout: 30_000 });
      if (before) await before(page);
      await page.waitForTimeout(1200); // charts and live figures settle
      const file = path.join(OUT, `${name}.png`);
      await page.screenshot({ path: file });
      shots.push(`${name}.png ${Math.round((await stat(file)).size / 1024)} KiB`);
      await ctx.close();
    };
    await take('list', '/list', { ready: `[data-testid="machine-${HOST}"] [data-testid="gpu-0"]` });
    await take('machine', `/window/${HOST}`, { ready: '[data-testid="window-content"] [data-testid="gpu-7"]' });
    await take('history', `/window/${HOST}?gpu=3`, {
      ready: '.ant-modal .recharts-line-curve',
      before: async (page) => {
        await page.waitForTimeout(800); // the dialog's opening animation
        const chart = page.locator('.ant-modal .history-chart svg').first();
        const box = await chart.boundingBox();
        if (box) await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.4);
      },
    });
    await take('overview', '/overview', { ready: '[data-testid="gpu-row"]' });
    await take('free-gpus', '/free-gpus', { ready: '[data-testid="free-count"]' });
    await take('usage', '/usage', { height: 1000, ready: '[data-testid="usage-overlap"]' });
    await take('dark', `/window/${HOST}`, { theme: 'dark', ready: '[data-testid="window-content"] [data-testid="gpu-7"]' });
    await take('phone', '/list', { width: 390, height: 844, scale: 2, ready: '[data-testid="totals"]' });
    console.log(`screenshots in ${path.relative(process.cwd(), OUT) || '.'}/: ${shots.join(', ')}`);
  } catch (e) {
    console.error(logs.join('').slice(-3000));
    throw e;
  } finally {
    await browser?.close();
    try {
      process.kill(-demo.pid, 'SIGINT');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

main().catch((e) => {
  console.error(`screenshots: ${e.message}`);
  process.exit(1);
});
