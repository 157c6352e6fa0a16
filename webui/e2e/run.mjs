// End-to-end test of the built page against a real gpumon-hub with simulated
// agents, driving Debian's Chromium through playwright-core.
//
//   npm run build && GPUMON_BIN=../bin npm run e2e
//
// Screenshots go to test-results/. Exit status 1 when any step fails.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { alertHubArgs, alertSteps } from './alerts.mjs';
import { axeViolations, focusProblems } from './a11y.mjs';
import { fleetFigures, MAX_ELEMENTS } from './fleet.mjs';
import { freeReport, legacyReport, loadReport, XSS } from './fixtures.mjs';
import { freePort, waitFor, whenStill } from './ui.mjs';

const webui = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.resolve(webui, process.env.GPUMON_BIN ?? '../bin');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = path.join(webui, 'test-results');
const SITE = path.join(webui, 'site/app');
const AGENT_TOKEN = 'e2e-agent-token';
const ADMIN_TOKEN = 'e2e-admin-token';
/** Machines posted for the first load measurement. */
const FLEET = Math.max(1, Number(process.env.GPUMON_E2E_FLEET) || 100);
/** Machines gpumon-loadgen adds for the second (GPUMON_E2E_BIG_FLEET=0: none). */
const BIG_FLEET = Math.max(0, Number(process.env.GPUMON_E2E_BIG_FLEET ?? 1000));
/** The hub's --idle-after: short, so the run sees a GPU become idle-held. */
const IDLE_AFTER_S = 20;

const children = [];
const results = [];
let failed = 0;


function start(name, args, logs) {
  const bin = path.join(BIN, name);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => logs.push(`[${name}] ${d}`));
  child.stderr.on('data', (d) => logs.push(`[${name}] ${d}`));
  children.push(child);
  return child;
}


async function step(name, page, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    results.push({ name, ok: false, ms: Date.now() - t0, error: e.message });
    console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    await page?.screenshot({ path: path.join(OUT, `FAILED-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Names the wait that failed. */
async function stage(name, promise) {
  try {
    return await promise;
  } catch (e) {
    throw new Error(`${name}: ${e.message.split('\n')[0]}`);
  }
}

async function post(base, pathname, body) {
  const res = await fetch(base + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${pathname}: ${res.status} ${await res.text()}`);
}

async function main() {
  for (const b of ['gpumon-hub', 'gpumon-agent', ...(BIG_FLEET ? ['gpumon-loadgen'] : [])]) {
    if (!existsSync(path.join(BIN, b))) throw new Error(`${path.join(BIN, b)} is missing: build it (make build) or set GPUMON_BIN`);
  }
  if (!existsSync(path.join(SITE, 'index.html'))) throw new Error('site/app/index.html is missing: run npm run build first');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gpumon-e2e-'));
  const logs = [];
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const hub = `http://127.0.0.1:${httpPort}`;
  const hubArgs = ['--data-dir', path.join(tmp, 'data'), '--http-addr', `127.0.0.1:${httpPort}`, '--grpc-addr', `127.0.0.1:${grpcPort}`, '--agent-token', AGENT_TOKEN, '--admin-token', ADMIN_TOKEN, '--legacy-open', '--log-level', 'warn', '--idle-after', `${IDLE_AFTER_S}s`, '--max-machines', String(FLEET + BIG_FLEET + 100), ...(await alertHubArgs(tmp))];
  let hubChild = start('gpumon-hub', hubArgs, logs);
  await waitFor(async () => (await fetch(`${hub}/api/v1/machines`)).ok, 20_000, 'the hub');
  const restartHub = async () => {
    const exited = new Promise((r) => hubChild.on('exit', r));
    hubChild.kill('SIGTERM');
    await exited;
    hubChild = start('gpumon-hub', hubArgs, logs);
    await waitFor(async () => (await fetch(`${hub}/api/v1/machines`)).ok, 20_000, 'the restarted hub');
  };
  const agentArgs = (profile, host) => [`--simulate=${profile}`, '--hub', `127.0.0.1:${grpcPort}`, '--token', AGENT_TOKEN, '--hostname', host, '--state-dir', path.join(tmp, `state-${host}`), '--allow-kill', '--allow-kill-non-gpu', '--log-level', 'warn'];
  start('gpumon-agent', agentArgs('dgxh100', 'e2e-a'), logs);
  const agentsStarted = Date.now();
  const agentB = start('gpumon-agent', agentArgs('rtx4090x4', 'e2e-b'), logs);
  // A process the kill step stops; the agent reports every process of this
  // machine, and stops one that uses no GPU because of --allow-kill-non-gpu.
  const victim = spawn('sleep', ['613'], { stdio: 'ignore' });
  children.push(victim);
  const victimGone = new Promise((r) => victim.on('exit', (code, signal) => r(signal ?? code)));
  // A machine posting the documented format: sessions, containers, an XSS command line.
  const keepLegacy = async () =>
    Promise.all([post(hub, '/api/report-gpu-stats', legacyReport('e2e-legacy')), post(hub, '/api/report-gpu-stats', freeReport('e2e-free'))]).catch((e) =>
      logs.push(String(e)),
    );
  await keepLegacy();
  const legacyTimer = setInterval(keepLegacy, 3000);
  await waitFor(async () => {
    const r = await (await fetch(`${hub}/api/v1/machines`)).json();
    return ['e2e-a', 'e2e-b', 'e2e-legacy', 'e2e-free'].every((k) => r.machines?.some((m) => m.key === k && m.online));
  }, 30_000, 'four machines online');
  // The page is the one the hub binary embeds; it must be this build's.
  const served = await (await fetch(`${hub}/`)).text();
  const built = await readFile(path.join(SITE, 'index.html'), 'utf8');
  if (served !== built) throw new Error(`${BIN}/gpumon-hub embeds another build of the page: run make build`);
  const base = hub;
  console.log(`hub and page ${base}, binaries ${BIN}`);

  // Every Content-Security-Policy violation the page causes, in any tab of
  // any browser the test starts (the cold loads and the notification
  // profile included).
  const cspViolations = [];
  // A fresh profile directory (playwright passes it as --user-data-dir).
  const launch = async (dir) => {
    const ctx = await chromium.launchPersistentContext(path.join(tmp, dir), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 900 },
      locale: 'en-US',
    });
    await ctx.exposeBinding('__gpumonCSPViolation', (_source, v) => cspViolations.push(`${dir}: ${v}`));
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__gpumonCSPViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    return ctx;
  };
  const context = await launch('chromium');
  const browser = context;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  /**
   * The tab's title becomes want. The page sets it once it has drawn what the
   * address says, a moment after the address changed.
   */
  const titleIs = async (want) => {
    let title = '';
    await waitFor(async () => (title = await page.title()) === want, 15_000, `the title ${JSON.stringify(want)}`).catch((e) => {
      throw new Error(`${e.message}; it is ${JSON.stringify(title)}`);
    });
  };
  const shot = (name) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
  /** Item 12's figures, printed again at the end. */
  const figures = [];
  /**
   * A chart reads well: its time labels neither repeat nor run into each
   * other nor leave the chart, and the tooltip under the pointer gives each
   * value with its unit and a sensible precision, in the theme's colours,
   * inside the chart's box.
   */
  const chartReads = async (scope, theme) => {
    const chart = scope.locator('.history-chart').first();
    const svg = chart.locator('svg.recharts-surface').first();
    const ticks = await svg.locator('[class*="recharts-xAxis"] text.recharts-cartesian-axis-tick-value').evaluateAll((els) => els.map((e) => ({ text: e.textContent, box: e.getBoundingClientRect().toJSON() })));
    const frame = await svg.boundingBox();
    check(ticks.length >= 2, `${ticks.length} time labels`);
    check(new Set(ticks.map((t) => t.text)).size === ticks.length, `time labels repeat: ${ticks.map((t) => t.text).join(', ')}`);
    for (let i = 1; i < ticks.length; i++) check(ticks[i].box.left >= ticks[i - 1].box.right + 2, `time labels run together: ${ticks[i - 1].text} and ${ticks[i].text}`);
    check(ticks.every((t) => t.box.left >= frame.x - 1 && t.box.right <= frame.x + frame.width + 1), `a time label is cut off: ${ticks.map((t) => t.text).join(', ')}`);
    await svg.hover({ position: { x: frame.width * 0.6, y: frame.height * 0.4 } });
    const tip = chart.locator('.chart-tooltip');
    await tip.waitFor({ timeout: 5000 });
    const text = await tip.innerText();
    check(/\d(\.\d)?(%|°C| W| MHz| [KMGT]iB)/.test(text) && !/\d\.\d{3,}/.test(text), `tooltip: ${text}`);
    const look = await tip.evaluate((el) => ({ bg: getComputedStyle(el).backgroundColor, box: el.getBoundingClientRect().toJSON() }));
    const lum = (look.bg.match(/[\d.]+/g) ?? []).slice(0, 3).reduce((a, v) => a + Number(v), 0) / 3;
    check(theme === 'dark' ? lum < 90 : lum > 200, `${theme} theme, tooltip background ${look.bg}`);
    const area = await chart.boundingBox();
    check(look.box.left >= area.x - 1 && look.box.right <= area.x + area.width + 1, `the tooltip leaves the chart: ${JSON.stringify(look.box)} in ${JSON.stringify(area)}`);
    await page.mouse.move(0, 0);
  };

  try {
    await step('list view shows every machine', page, async () => {
      await page.goto(`${base}/#/list`);
      for (const k of ['e2e-a', 'e2e-b', 'e2e-legacy']) await page.getByTestId(`machine-${k}`).waitFor({ state: 'attached', timeout: 15_000 });
      await titleIs('List · gpumon');
      await page.getByTestId('machine-e2e-a').getByTestId('gpu-7').waitFor({ timeout: 15_000 });
      await page.getByTestId('conn').and(page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 });
      await page.getByText('4 machines online').waitFor();
      await shot('list');
    });

    await step('a machine header says what its GPU cards show', page, async () => {
      // Several looks while the simulated figures move: each time, the header's
      // busy and free counts and memory are those of the cards below it. A GPU
      // is free by the hub's defaults (no compute process, at most 10 %, at
      // least 90 % of its memory free) and busy otherwise: never both.
      const card = page.getByTestId('machine-e2e-a');
      await card.getByTestId('gpu-7').waitFor();
      for (let i = 0; i < 6; i++) {
        const seen = await page.evaluate(() => {
          const fmt = (mib) => {
            if (mib < 1024) return `${Math.round(mib)} MiB`;
            const gib = mib / 1024;
            return gib >= 1024 ? `${(gib / 1024).toFixed(gib / 1024 >= 100 ? 0 : 1)} TiB` : `${gib.toFixed(gib >= 100 ? 0 : 1)} GiB`;
          };
          const el = document.querySelector('[data-testid="machine-e2e-a"]');
          let used = 0;
          let total = 0;
          let busy = 0;
          let free = 0;
          for (const g of el.querySelectorAll('.gpu-card')) {
            const [u, t] = g.querySelector('.mem-progress .ant-progress-indicator').textContent.replace(/[^\d/]/g, '').split('/').map(Number);
            used += u;
            total += t;
            const util = Number(g.querySelector('.meter .ant-progress-indicator').textContent.replace(/\D/g, '') || 0);
            const procs = g.querySelectorAll('.gpu-proc').length;
            if (procs === 0 && util <= 10 && (t - u) * 100 >= 90 * t) free++;
            else busy++;
          }
          return { head: el.querySelector('.machine-gpus').textContent, cards: `${busy} busy · ${free} free · ${fmt(used)} / ${fmt(total)}` };
        });
        check(seen.head.includes(seen.cards), `the header says "${seen.head}", its cards "${seen.cards}"`);
        await page.waitForTimeout(1500);
      }
    });

    await step('collapse and expand a machine', page, async () => {
      const card = page.getByTestId('machine-e2e-a');
      await card.getByRole('button', { name: 'Collapse' }).click();
      await card.getByTestId('gpu-0').waitFor({ state: 'detached' });
      await card.getByRole('button', { name: 'Expand' }).click();
      await card.getByTestId('gpu-0').waitFor();
    });

    await step('window view switches machines', page, async () => {
      await page.getByRole('menuitem', { name: 'Window' }).click();
      await page.waitForURL(/#\/window\/e2e-a/);
      await page.getByTestId('window-content').getByRole('heading', { name: 'e2e-a' }).waitFor();
      await page.getByTestId('host-e2e-b').click();
      await page.waitForURL(/#\/window\/e2e-b/);
      await page.getByTestId('window-content').getByRole('heading', { name: 'e2e-b' }).waitFor();
      await page.getByTestId('window-content').getByTestId('gpu-3').waitFor();
      await titleIs('e2e-b · Window · gpumon');
      // The selected machine is marked for screen readers, not by colour alone.
      check((await page.getByTestId('host-e2e-b').getAttribute('aria-current')) === 'page', 'the selected machine has no aria-current');
      await shot('window');
    });

    await step('copy screen and docker commands', page, async () => {
      await page.goto(`${base}/#/window/e2e-legacy`);
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: /Sessions/ }).click();
      // Copied commands reach the machine: ssh -t HOST '…' (Settings → ssh target, {host} by default).
      await content.getByTestId('session-train.v2').click();
      await waitFor(async () => (await clipboard()) === "ssh -t e2e-legacy 'screen -R train.v2'", 5000, 'ssh … screen -R on the clipboard');
      await content.getByTestId('session-notebook').click();
      const confirm = page.getByRole('dialog').filter({ hasText: 'Someone is attached' });
      await whenStill(confirm);
      await shot('screen-confirm');
      await confirm.getByRole('button', { name: 'Copy' }).click();
      await waitFor(async () => (await clipboard()) === "ssh -t e2e-legacy 'screen -x notebook'", 5000, 'ssh … screen -x on the clipboard');
      await content.getByRole('tab', { name: /Containers/ }).click();
      // The tab is in the address and the title: a link or a reload opens it again.
      await page.waitForURL(/#\/window\/e2e-legacy\?tab=containers$/);
      await titleIs('e2e-legacy · Containers · Window · gpumon');
      await page.reload();
      await content.getByText('0, 1', { exact: true }).waitFor({ timeout: 15_000 });
      check((await content.getByRole('tab', { name: /Containers/ }).getAttribute('aria-selected')) === 'true', 'the Containers tab is not open after a reload');
      await content.getByTestId('container-3f2a9c1b7d4e').click();
      await waitFor(async () => (await clipboard()) === "ssh -t e2e-legacy 'docker exec -it 3f2a9c1b7d4e bash'", 5000, 'ssh … docker exec on the clipboard');
    });

    await step('an XSS command line renders as text', page, async () => {
      await page.goto(`${base}/#/window/e2e-legacy`);
      const content = page.getByTestId('window-content');
      // Every process of a GPU shows without asking.
      await content.getByTestId('gpu-1').getByText(`python evil.py ${XSS}`).first().waitFor();
      check((await page.locator('img[src="x"]').count()) === 0, 'an <img src=x> element exists');
      check(dialogs.length === 0, `a dialog opened: ${dialogs.join(', ')}`);
      await shot('xss-as-text');
    });

    await step('search processes of a machine and of the fleet', page, async () => {
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: /Processes/ }).click();
      await content.getByPlaceholder('Search by name or command line').fill('train.py');
      await content.getByText('python train.py --config configs/v2.yaml').first().waitFor();
      check((await content.locator('.process-table tbody tr.ant-table-row').count()) >= 1, 'no search result row');
      await page.goto(`${base}/#/search?q=configs%2Fv2`);
      await page.getByText('python train.py --config configs/v2.yaml').first().waitFor();
      await shot('search');
    });

    await step('kill is disabled without the admin token', page, async () => {
      await page.goto(`${base}/#/window/e2e-a`);
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: /Processes/ }).click();
      await content.getByPlaceholder('Search by name or command line').fill('sleep 613');
      await content.getByText('sleep 613').first().waitFor({ timeout: 15_000 });
      check(await content.getByRole('button', { name: `Stop ${victim.pid}` }).isDisabled(), 'Stop is enabled without a token');
    });

    await step('settings persist across a reload', page, async () => {
      await page.getByTestId('open-settings').click();
      const dlg = page.getByRole('dialog').filter({ hasText: 'Settings' });
      await whenStill(dlg);
      await dlg.getByLabel('Refresh interval (seconds)').fill('3');
      await dlg.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await dlg.getByLabel('My user name').fill('alice');
      await shot('settings');
      await dlg.getByRole('button', { name: 'Save' }).click();
      await dlg.waitFor({ state: 'hidden' });
      await page.reload();
      await page.getByTestId('open-settings').click();
      const again = page.getByRole('dialog').filter({ hasText: 'Settings' });
      await whenStill(again);
      check((await again.getByLabel('Refresh interval (seconds)').inputValue()) === '3', 'refresh interval not kept');
      check((await again.getByLabel('Admin token').inputValue()) === ADMIN_TOKEN, 'admin token not kept');
      check((await again.getByLabel('My user name').inputValue()) === 'alice', 'user not kept');
      await again.getByRole('button', { name: 'Cancel' }).click();
    });

    await step('kill a process and show the result', page, async () => {
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: /Processes/ }).click();
      await content.getByPlaceholder('Search by name or command line').fill('sleep 613');
      const stop = content.getByRole('button', { name: `Stop ${victim.pid}` });
      await stop.waitFor({ timeout: 15_000 });
      await waitFor(() => stop.isEnabled(), 5000, 'Stop enabled');
      await stop.click();
      const confirm = page.getByRole('dialog').filter({ hasText: 'Stop 1 process on e2e-a?' });
      // The confirmation says who runs what, not just a PID.
      await confirm.getByTestId('kill-targets').getByText('sleep 613').waitFor();
      await whenStill(confirm);
      await confirm.getByRole('button', { name: 'Stop' }).click();
      const result = page.getByTestId('kill-result');
      await result.waitFor({ timeout: 20_000 });
      await result.getByText(String(victim.pid)).waitFor();
      await shot('kill-result');
      const text = await result.innerText();
      check(/Signalled 1 process\./.test(text) && /signalled/.test(text), `kill result: ${text}`);
      check((await result.locator('[data-status="success"]').count()) === 1, `kill result: ${text}`);
      const how = await Promise.race([victimGone, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      check(how === 'SIGTERM', `victim: ${how}`);
      const done = page.getByRole('dialog').filter({ has: result });
      await whenStill(done);
      await done.getByRole('button', { name: 'OK' }).click();
      await result.waitFor({ state: 'detached' });
    });

    await step('every process of a GPU by default; Python only is a setting', page, async () => {
      await page.goto(`${base}/#/window/e2e-legacy`);
      const g0 = page.getByTestId('window-content').getByTestId('gpu-0');
      await g0.getByText('2 processes').waitFor({ timeout: 15_000 });
      await g0.locator('.process-table').getByText('root').waitFor();
      const setPythonOnly = async (on) => {
        await page.getByTestId('open-settings').click();
        const dlg = page.getByRole('dialog').filter({ hasText: 'Settings' });
        const sw = dlg.getByLabel('Python processes only on GPU cards');
        await whenStill(dlg);
        // The dialog fills its form as it opens: click until the switch shows the wanted state.
        await waitFor(async () => {
          if ((await sw.getAttribute('aria-checked')) === String(on)) return true;
          await sw.click();
          return false;
        }, 10_000, `the Python-only switch ${on ? 'on' : 'off'}`);
        await dlg.getByRole('button', { name: 'Save' }).click();
        await dlg.waitFor({ state: 'hidden' });
      };
      await setPythonOnly(true);
      await g0.getByText('1 Python process, 1 other hidden (Settings)').waitFor();
      check((await g0.locator('.process-table').getByText('root').count()) === 0, 'the X server still listed with Python only');
      await page.reload();
      await g0.getByText('1 Python process, 1 other hidden (Settings)').waitFor({ timeout: 15_000 });
      await setPythonOnly(false);
      await g0.getByText('2 processes').waitFor();
    });

    await step('language switch', page, async () => {
      await page.getByTestId('lang-switch').click();
      await page.getByRole('menuitem', { name: '列表' }).waitFor();
      await page.waitForTimeout(500); // the tab underline slides to the new width
      await shot('chinese');
      await page.getByTestId('lang-switch').click();
      await page.getByRole('menuitem', { name: 'List' }).waitFor();
    });

    await step('free GPUs: the hub’s definition, ranked by how free', page, async () => {
      let latest;
      const onResponse = async (r) => {
        if (r.url().includes('/api/v1/free-gpus')) latest = await r.json().catch(() => latest);
      };
      page.on('response', onResponse);
      try {
        await page.goto(`${base}/#/free-gpus`);
        await page.getByRole('heading', { name: 'Free GPUs now' }).waitFor();
        const rows = page.locator('.free-page tbody tr.ant-table-row');
        await rows.first().waitFor();
        const texts = async () => (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
        // The page lists what the hub answered, in the hub's order.
        await waitFor(async () => {
          const shown = await texts();
          const gpus = latest?.gpus ?? [];
          return gpus.length === shown.length && gpus.every((g, i) => shown[i].includes(g.hostname) && shown[i].includes(`${g.index} · ${g.name}`));
        }, 15_000, 'the rows to be the hub’s answer in its order');
        const mine = (await texts()).filter((t) => t.includes('e2e-free'));
        check(mine.length === 2 && mine[0].includes('0 · NVIDIA GeForce RTX 4090') && mine[1].includes('2 · NVIDIA GeForce RTX 4090'),
          `e2e-free's free GPUs: ${JSON.stringify(mine)}; want the idle 4090 and the one with only the X server`);
        check(mine[1].includes('1 (1 graphics)'), `the X server's GPU: ${mine[1]}`);
        check((await page.getByTestId('max-util-value').innerText()) === '10%', 'the utilisation slider does not show the hub’s 10%');
        await page.getByText('Free: no compute process, utilisation at most 10%, at least 90% of the memory free').waitFor();
        await shot('free-gpus');
        // Everything, jobs allowed: the idle 4090 still outranks the B200 at 90 %.
        await page.goto(`${base}/#/free-gpus?shared=1&util=100&minpct=0`);
        await page.getByTestId('max-util-value').getByText('100%').waitFor();
        await waitFor(async () => (await texts()).some((t) => t.includes('e2e-free') && t.includes('NVIDIA B200')), 15_000, 'the B200 listed');
        const all = await texts();
        const at = (name) => all.findIndex((t) => t.includes('e2e-free') && t.includes(name));
        check(at('0 · NVIDIA GeForce RTX 4090') < at('1 · NVIDIA B200'), `the idle 4090 comes after the busy B200: ${JSON.stringify(all)}`);
        await page.goto(`${base}/#/free-gpus`);
        await page.getByLabel('Min free memory (GiB)').fill('70');
        await page.waitForURL(/min=70/);
        await waitFor(async () => (await page.getByText(/RTX 4090/).count()) === 0, 10_000, 'only cards with 70 GiB free');
      } finally {
        page.off('response', onResponse);
      }
    });

    await step('a machine whose agent stops goes offline', page, async () => {
      agentB.kill('SIGTERM');
      await page.goto(`${base}/#/list`);
      await page.locator('[data-testid="machine-e2e-b"][data-state="offline"]').waitFor({ state: 'attached', timeout: 40_000 });
      await page.getByTestId('machine-e2e-b').scrollIntoViewIfNeeded();
      await page.getByTestId('machine-e2e-b').getByText('Offline').waitFor();
      // The header counts online machines; the offline one apart, its GPUs not in the totals.
      await page.getByTestId('totals-offline').getByText('1 offline').waitFor({ timeout: 15_000 });
      const totals = await page.getByTestId('totals').innerText();
      check(/3 machines online/.test(totals) && /\/14 GPUs busy/.test(totals), `header totals: ${totals} (want 3 online, 8 + 2 + 4 GPUs)`);
      await shot('offline');
    });

    await step('dark theme and compact density', page, async () => {
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
        localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme: 'dark', density: 'compact' }));
      });
      await page.goto(`${base}/#/window/e2e-legacy`);
      await page.reload();
      await page.getByTestId('window-content').getByTestId('gpu-0').waitFor();
      check((await page.evaluate(() => document.documentElement.dataset.theme)) === 'dark', 'not dark');
      await shot('dark-compact');
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
        localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme: 'light', density: 'comfortable' }));
      });
      await page.reload();
    });

    await step('history: a GPU chart shows the last minute, and a hub restart keeps it', page, async () => {
      // Let the simulated agents run for a minute.
      await page.waitForTimeout(Math.max(0, agentsStarted + 65_000 - Date.now()));
      const openGpuHistory = async () => {
        await page.goto(`${base}/#/window/e2e-a`);
        const content = page.getByTestId('window-content');
        await stage('GPU 7 card', content.getByTestId('gpu-7').waitFor({ timeout: 15_000 }));
        const answer = page.waitForResponse((r) => r.url().includes('/api/v1/history') && r.url().includes('gpu=7'), { timeout: 15_000 });
        await content.getByTestId('gpu-7').getByRole('button', { name: 'History of GPU 7' }).click();
        const body = await (await stage('history answer', answer)).json();
        const modal = page.getByRole('dialog').filter({ hasText: 'GPU 7' });
        const curve = modal.locator('path.recharts-line-curve').first();
        await stage('GPU chart line', curve.waitFor({ state: 'attached', timeout: 15_000 }));
        const segments = ((await curve.getAttribute('d')) ?? '').split(/[LC]/).length - 1;
        const points = body.series?.[0]?.points ?? [];
        return { modal, points, segments, step: body.step_seconds ?? 0 };
      };
      const before = await openGpuHistory();
      check(before.points.length >= 4, `the chart has ${before.points.length} points after a minute, want ≥ 4 (one per 10–15 s)`);
      check(before.segments >= before.points.length - 1, `the drawn line has ${before.segments} segments for ${before.points.length} points`);
      check(before.points[0].time * 1000 <= agentsStarted + 20_000, 'the first point is not from the start of the run');
      await shot('history-gpu');
      await chartReads(before.modal, 'light');
      // Everything the agent reports about a GPU has a history: temperature,
      // power, clocks, ECC, PCIe, and each user's share of the SMs.
      for (const [label, metric] of [
        ['GPU temperature (°C)', 'gpu_temperature'],
        ['GPU power (W)', 'gpu_power'],
        ['SM clock (MHz)', 'gpu_sm_clock'],
        ['ECC errors, corrected', 'gpu_ecc_corrected'],
        ['PCIe link generation', 'gpu_pcie_generation'],
        ['SM utilisation by user (%)', 'user_gpu_sm_utilization'],
      ]) {
        const answer = page.waitForResponse((r) => r.url().includes('/api/v1/history') && r.url().includes(`metric=${metric}&`) && r.url().includes('gpu=7'), { timeout: 30_000 });
        answer.catch(() => {}); // awaited below; a failure before that must not end the run
        await before.modal.getByRole('combobox', { name: 'Metric' }).click();
        // The dropdown slides in: an option clicked before it stands still is missed.
        const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: label });
        await whenStill(option);
        await option.click();
        const body = await (await stage(`${metric} answer`, answer)).json();
        const points = (body.series ?? []).reduce((a, x) => a + (x.points?.length ?? 0), 0);
        if (metric === 'user_gpu_sm_utilization' && points === 0) continue; // no process on GPU 7 this minute
        check(points > 0, `${metric}: no history for GPU 7`);
        await stage(`${metric} line`, before.modal.locator('path.recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 }));
      }
      await shot('history-gpu-temperature');
      await whenStill(before.modal);
      await before.modal.getByRole('button', { name: 'Close' }).click();
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: 'History' }).click();
      await stage('machine chart line', content.locator('.machine-history .recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 }));
      await content.locator('.machine-history').scrollIntoViewIfNeeded();
      await shot('history');
      // The machine's History tab is in the address: a reload opens it again.
      await page.waitForURL(/tab=history/);
      await titleIs('e2e-a · History · Window · gpumon');
      // In the dark theme the tooltip is dark too, and stays inside the chart.
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
        localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme: 'dark' }));
      });
      await page.reload();
      await stage('machine chart line after a reload', content.locator('.machine-history .recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 }));
      await chartReads(content.locator('.machine-history'), 'dark');
      await shot('history-dark');
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
        localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme: 'light' }));
      });

      await restartHub();
      await waitFor(async () => {
        const r = await (await fetch(`${hub}/api/v1/machines`)).json();
        return r.machines?.some((m) => m.key === 'e2e-a' && m.online);
      }, 40_000, 'e2e-a back after the hub restart');
      const after = await openGpuHistory();
      check(after.points.length >= before.points.length, `after the restart the chart has ${after.points.length} points, before ${before.points.length}`);
      // The grid of steps moves with the clock; the oldest point stays within one step.
      check(after.points[0].time <= before.points[0].time + after.step, `the restart lost the oldest points (first at ${after.points[0].time}, was ${before.points[0].time})`);
      check(after.segments >= after.points.length - 1, `the drawn line has ${after.segments} segments for ${after.points.length} points`);
      await shot('history-gpu-after-restart');
      await whenStill(after.modal);
      await after.modal.getByRole('button', { name: 'Close' }).click();
    });

    await step('usage adds up, and the card and Usage agree on idle GPUs', page, async () => {
      // e2e-legacy's GPU 1 holds 20 GiB at 0 %: idle at once, idle-held after --idle-after.
      await page.goto(`${base}/#/window/e2e-legacy`);
      const tag = page.getByTestId('window-content').getByTestId('gpu-1').getByTestId('idle-tag');
      await tag.waitFor({ timeout: 15_000 });
      await waitFor(async () => (await tag.getAttribute('data-held')) === 'true', (IDLE_AFTER_S + 30) * 1000, 'GPU 1 to be idle-held');
      check(/^idle, memory held · \d+ (s|min)$/.test((await tag.innerText()).trim()), `idle tag: ${await tag.innerText()}`);
      await shot('idle-held');
      await page.goto(`${base}/#/usage`);
      await page.getByRole('heading', { name: 'GPU usage' }).waitFor();
      await page.getByText('Held but idle now').waitFor();
      const idleRows = page.locator('.usage-page .ant-card').first().locator('tbody tr.ant-table-row');
      await idleRows.filter({ hasText: 'e2e-legacy' }).filter({ hasText: 'mallory' }).waitFor({ timeout: 15_000 });
      // Usage lists exactly the GPUs the machines' reports flag (simulated
      // jobs come and go, so look until one moment has both agree).
      let u;
      let seen = '';
      await waitFor(async () => {
        u = await (await fetch(`${hub}/api/v1/usage`)).json();
        const listed = (u.idle_held ?? []).map((g) => `${g.machine}/${g.index}`).sort();
        const m = await (await fetch(`${hub}/api/v1/machines`)).json();
        const flagged = [];
        for (const s of m.machines.filter((x) => x.online)) {
          const r = await (await fetch(`${hub}/api/v1/machines/${encodeURIComponent(s.key)}`)).json();
          for (const g of r.report.gpu_data ?? []) if (g.idle_held) flagged.push(`${s.key}/${g.id}`);
        }
        flagged.sort();
        seen = `usage lists ${listed}, the machines' GPUs flag ${flagged}`;
        return listed.includes('e2e-legacy/1') && listed.join() === flagged.join();
      }, 20_000, 'usage and the machines to agree on idle-held GPUs').catch((e) => {
        throw new Error(`${e.message}: ${seen}`);
      });
      // Memory adds up, machines' included (it was always 0).
      const sum = (rows, f) => rows.reduce((a, r) => a + (r[f] ?? 0), 0);
      const ug = sum(u.users, 'gpu_memory_gib_hours');
      const mg = sum(u.machines, 'gpu_memory_gib_hours');
      check(mg > 0 && Math.abs(ug - mg) <= 1e-6 * mg + 1e-3, `GiB-hours: users ${ug}, machines ${mg}`);
      await page.locator('.usage-machines').getByText('Fleet total').waitFor();
      await page.getByTestId('usage-overlap').waitFor();
      await shot('usage');
    });

    await step('small screen', page, async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      // Measured once the page has settled: the header's menu is drawn whole
      // on a fresh page and folds into "…" once it has measured itself (a
      // frame or more later), which a page load can be measured in between.
      const fits = async (what) => {
        let w = 0;
        let first = 0;
        for (const end = Date.now() + 10_000; ; await page.waitForTimeout(100)) {
          w = await page.evaluate(() => document.documentElement.scrollWidth);
          first ||= w;
          if (w <= 391 || Date.now() > end) break;
        }
        if (first > 391 && w <= 391) console.log(`     ${what}: ${first} px wide at first, ${w} px once settled`);
        check(w <= 391, `${what} is ${w} px wide on a 390 px screen, still after 10 s`);
      };
      await page.goto(`${base}/#/list`);
      await page.getByTestId('machine-e2e-legacy').getByTestId('gpu-1').waitFor();
      // The fleet's totals stay on a phone.
      check(await page.getByTestId('totals').isVisible(), 'no totals on a phone');
      await fits('the list');
      await shot('mobile-list');
      await page.goto(`${base}/#/window/e2e-legacy`);
      await page.getByTestId('window-content').getByTestId('gpu-1').waitFor();
      await fits('a machine');
      await shot('mobile-window');
      await page.goto(`${base}/#/free-gpus?shared=1&util=100&minpct=0`);
      const row = page.locator('.free-page tbody tr.ant-table-row').first();
      await row.waitFor();
      await fits('Free GPUs');
      // Utilisation and temperature in view; a host name on one line, whole or cut with an ellipsis.
      for (const col of ['Util', 'Temp']) {
        const th = page.locator('.free-page thead th').filter({ hasText: col }).first();
        const box = await th.boundingBox();
        check(box && box.x + box.width <= 391, `the ${col} column is off screen`);
      }
      const name = await page.locator('.free-page .host-name').first().evaluate((el) => ({ h: el.getBoundingClientRect().height, lh: parseFloat(getComputedStyle(el).lineHeight) || 22 }));
      check(name.h <= name.lh * 1.5, `a host name wraps: ${JSON.stringify(name)}`);
      await shot('mobile-free-gpus');
      await page.goto(`${base}/#/overview`);
      await page.getByTestId('gpu-row').first().waitFor();
      await fits('the overview');
      await shot('mobile-overview');
      // A chart on a phone: no tooltip over the lines, the values under the chart instead.
      await page.goto(`${base}/#/window/e2e-a?tab=history`);
      const chart = page.getByTestId('window-content').locator('.history-chart').first();
      await chart.locator('.recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 });
      const svg = await chart.locator('svg.recharts-surface').first().boundingBox();
      await page.mouse.move(svg.x + svg.width * 0.6, svg.y + svg.height * 0.4);
      await page.waitForTimeout(300);
      check((await chart.locator('.chart-tooltip').count()) === 0, 'a tooltip covers the chart on a phone');
      check(/\d/.test(await chart.locator('.chart-readout').innerText()), 'no values under the chart');
      await shot('mobile-history');
      await page.setViewportSize({ width: 1440, height: 900 });
    });

    await step('a GPU card keeps its processes’ users, commands and stop buttons in view at 1400 px', page, async () => {
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.goto(`${base}/#/window/e2e-legacy`);
      const content = page.getByTestId('window-content');
      await content.getByTestId('gpu-0').locator('.gpu-proc').first().waitFor();
      const problems = await content.locator('.gpu-card').evaluateAll((cards) => {
        const out = [];
        for (const card of cards) {
          const c = card.getBoundingClientRect();
          if (card.scrollWidth > card.clientWidth + 1) out.push(`${card.dataset.testid} scrolls sideways`);
          for (const p of card.querySelectorAll('.gpu-proc')) {
            const stop = p.querySelector('button[aria-label^="Stop"]')?.getBoundingClientRect();
            if (!stop || stop.right > c.right || stop.left < c.left) out.push(`${card.dataset.testid}: the stop button of ${p.dataset.pid} is outside the card`);
            const user = p.querySelector('.gpu-proc-user');
            if (!user || user.scrollWidth > user.clientWidth + 1 || user.getBoundingClientRect().right > c.right) out.push(`${card.dataset.testid}: the user of ${p.dataset.pid} is cut`);
          }
        }
        return out;
      });
      check(problems.length === 0, problems.join('; '));
      // The whole command line is there (two lines, all of it on hover), not "python train.py --…".
      await content.getByTestId('gpu-0').locator('.proc-cmdline').getByText('python train.py --config configs/v2.yaml', { exact: true }).waitFor();
      await shot('window-1400');
      await page.setViewportSize({ width: 1440, height: 900 });
    });

    await step('WCAG 2.2 AA (axe-core) and visible keyboard focus, light and dark', page, async () => {
      const views = [
        ['list', '/list', '[data-testid="machine-e2e-legacy"] [data-testid="gpu-1"]'],
        ['machine', '/window/e2e-legacy', '[data-testid="window-content"] [data-testid="gpu-1"]'],
        ['machine processes', '/window/e2e-legacy?tab=processes', '[data-testid="window-content"] .process-table-all'],
        ['GPU history', '/window/e2e-a?gpu=7', '.ant-modal .recharts-line-curve'],
        ['overview', '/overview', '[data-testid="gpu-row"]'],
        ['free GPUs', '/free-gpus', '[data-testid="free-count"]'],
        ['search', '/search?q=python', '.search-page tbody tr'],
        ['usage', '/usage', '[data-testid="usage-overlap"]'],
      ];
      const found = [];
      let focused = 0;
      for (const theme of ['light', 'dark']) {
        await page.evaluate((theme) => {
          const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
          localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme }));
        }, theme);
        for (const [name, url, ready] of views) {
          await page.goto(`${base}/#${url}`);
          await page.reload();
          await page.locator(ready).first().waitFor({ state: 'attached', timeout: 15_000 });
          const modal = page.locator('.ant-modal').first();
          if (await modal.count()) await whenStill(modal);
          await page.waitForTimeout(300);
          for (const v of await axeViolations(page)) found.push(`${theme} ${name}: ${v}`);
          if (!url.includes('gpu=')) {
            const { bad, checked } = await focusProblems(page);
            focused += checked;
            for (const f of bad) found.push(`${theme} ${name}, focus: ${f}`);
          }
        }
        await page.goto(`${base}/#/list`);
        await page.getByTestId('open-settings').click();
        const dlg = page.getByRole('dialog').filter({ hasText: 'Settings' });
        await whenStill(dlg);
        for (const v of await axeViolations(page)) found.push(`${theme} settings: ${v}`);
        await page.keyboard.press('Escape');
        await dlg.waitFor({ state: 'hidden' });
      }
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}');
        localStorage.setItem('gpumon.settings', JSON.stringify({ ...s, theme: 'light' }));
      });
      for (const f of found) console.log(`     a11y ${f}`);
      console.log(`     a11y: ${views.length + 1} views in 2 themes scanned by axe-core; the focus ring of ${focused} controls checked`);
      check(focused >= 50, `only ${focused} controls took the keyboard focus`);
      check(found.length === 0, `${found.length} accessibility problems (listed above)`);
    });

    await step('token needed, empty fleet, hub unreachable', page, async () => {
      const [h2, g2] = [await freePort(), await freePort()];
      const hub2 = start('gpumon-hub', ['--data-dir', path.join(tmp, 'data2'), '--http-addr', `127.0.0.1:${h2}`, '--grpc-addr', `127.0.0.1:${g2}`, '--agent-token', AGENT_TOKEN, '--api-token', 'e2e-read-token', '--log-level', 'warn'], logs);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${h2}/api/v1/machines`)).status === 401, 30_000, 'the second hub to ask for a token');
      const other = await context.newPage();
      try {
        const base2 = `http://127.0.0.1:${h2}`;
        await other.goto(`${base2}/#/list`);
        await other.getByText('The hub asks for an API token').waitFor({ timeout: 40_000 });
        await other.screenshot({ path: path.join(OUT, 'needs-token.png') });
        await other.getByPlaceholder('API token').fill('e2e-read-token');
        await other.getByRole('button', { name: 'Save token' }).click();
        await other.getByText('No machines yet').waitFor({ timeout: 40_000 });
        await other.getByText(/gpumon-agent --hub 127\.0\.0\.1:7865 --token-file/).waitFor();
        await other.screenshot({ path: path.join(OUT, 'empty-fleet.png') });
        // The hub goes away under an open page.
        hub2.kill('SIGTERM');
        await new Promise((r) => hub2.on('exit', r));
        await other.getByText('Cannot reach the hub').waitFor({ timeout: 60_000 });
        await other.screenshot({ path: path.join(OUT, 'unreachable.png') });
      } catch (e) {
        await other.screenshot({ path: path.join(OUT, 'FAILED-second-hub.png') }).catch(() => {});
        throw e;
      } finally {
        await other.close();
      }
    });

    // Item 12's figures, at two sizes: the list, a machine's view and the
    // overview, loaded, expanded and scrolled. Printed as "figures" lines.
    const measure = async (label, prefix) => {
      const listed = await (await fetch(`${hub}/api/v1/machines`)).json();
      const keys = listed.machines.filter((m) => m.online && m.key.startsWith(prefix)).map((m) => m.key);
      // One open page, as a person has one tab of it (another page would compete for the renderer).
      await page.goto('about:blank');
      const r = await fleetFigures({ launch: () => launch(`chromium-cold-${prefix}`), context, base, label, machineKeys: keys, pageErrors, out: OUT });
      figures.push(...r.lines);
      check(r.largest <= MAX_ELEMENTS, `${label}: ${r.largest} elements in one page: the lists are not virtual any more (at most ${MAX_ELEMENTS})`);
    };

    await step(`${FLEET}-machine fleet: load, expand, open and scroll`, page, async () => {
      for (let i = 0; i < FLEET; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, FLEET - i) }, (_, j) => post(hub, '/api/report-gpu-stats', loadReport(i + j))));
      }
      await measure(`${FLEET + 4} machines`, 'load-');
    });

    if (BIG_FLEET) {
      await step(`${BIG_FLEET}-machine fleet from gpumon-loadgen: load, expand, open and scroll`, page, async () => {
        // Real gRPC streams, a lab's mix of machines and jobs; a report every
        // 10 s from each (100 a second at the hub) while the page is measured.
        const loadgen = start('gpumon-loadgen', ['--hub', `127.0.0.1:${grpcPort}`, '--token', AGENT_TOKEN, '--agents', String(BIG_FLEET), '--interval', '10s', '--duration', '30m', '--prefix', 'lab', '--seed', '7'], logs);
        try {
          await waitFor(async () => {
            const r = await (await fetch(`${hub}/api/v1/machines`)).json();
            return r.machines.filter((m) => m.online && m.key.startsWith('lab-')).length >= BIG_FLEET;
          }, 300_000, `${BIG_FLEET} loadgen machines online`);
          const total = (await (await fetch(`${hub}/api/v1/machines`)).json()).machines.length;
          await measure(`${total} machines`, 'lab-');
        } finally {
          const exited = new Promise((r) => loadgen.on('exit', r));
          loadgen.kill('SIGTERM');
          await exited;
        }
      });
    }

    await step('forget an offline machine', page, async () => {
      // e2e-b's agent was stopped above; the admin token is in the settings.
      await page.goto(`${base}/#/window/e2e-b`);
      const content = page.getByTestId('window-content');
      await content.getByRole('heading', { name: 'e2e-b' }).waitFor();
      await content.getByTestId('forget-machine').click();
      await whenStill(page.locator('.ant-popconfirm').filter({ hasText: 'Forget e2e-b?' }));
      await shot('forget-confirm');
      await page.locator('.ant-popconfirm').getByRole('button', { name: 'Forget' }).click();
      await page.getByText('e2e-b forgotten').waitFor();
      await page.getByTestId('host-e2e-b').waitFor({ state: 'detached' });
      await page.waitForURL((u) => !u.hash.includes('e2e-b'));
      const listed = await (await fetch(`${hub}/api/v1/machines`)).json();
      check(!listed.machines.some((m) => m.key === 'e2e-b'), 'the hub still lists e2e-b');
      // An online machine offers no such button.
      await page.goto(`${base}/#/window/e2e-a`);
      await content.getByRole('heading', { name: 'e2e-a' }).waitFor();
      check((await content.getByTestId('forget-machine').count()) === 0, 'an online machine can be forgotten');
    });

    await alertSteps({ step, check, page, context, launch, base, post, shot });

    await step('no uncaught errors in the page', null, async () => {
      check(pageErrors.length === 0, `uncaught page errors: ${[...new Set(pageErrors)].join(' | ')}`);
    });

    await step('the page runs under its Content-Security-Policy with no violation', null, async () => {
      const csp = (await fetch(`${hub}/`)).headers.get('content-security-policy') ?? '';
      check(/script-src 'self'/.test(csp) && /object-src 'none'/.test(csp), `the page's CSP is ${JSON.stringify(csp)}`);
      check(cspViolations.length === 0, `CSP violations: ${[...new Set(cspViolations)].join(' | ')}`);
      // The watch for violations works: an injected inline script is
      // blocked, and reported.
      await page.goto(`${base}/#/list`);
      const ran = await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__cspProbe = 1';
        document.head.appendChild(s);
        return window.__cspProbe === 1;
      });
      check(!ran, 'an injected inline script ran under the CSP');
      await waitFor(async () => cspViolations.length === 1, 5000, 'the injected script to be reported as a violation');
    });
  } finally {
    clearInterval(legacyTimer);
    await browser.close();
    for (const c of children) if (c.exitCode == null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (failed) console.log(logs.join('').slice(-4000));
  }
  const passed = results.filter((r) => r.ok).length;
  if (figures.length) console.log(`\nfigures (item 12):\n  ${figures.join('\n  ')}\n`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  console.log(`screenshots in ${path.relative(process.cwd(), OUT) || '.'}/`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`e2e: ${e.message}`);
  for (const c of children) if (c.exitCode == null) c.kill('SIGTERM');
  process.exit(1);
});
