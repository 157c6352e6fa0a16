// End-to-end test of the built page against a real gpumon-hub with simulated
// agents, driving Debian's Chromium through playwright-core.
//
//   npm run build && GPUMON_BIN=../bin npm run e2e
//
// Screenshots go to test-results/. Exit status 1 when any step fails.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { alertHubArgs, alertSteps } from './alerts.mjs';
import { freeReport, legacyReport, loadReport, XSS } from './fixtures.mjs';

const webui = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.resolve(webui, process.env.GPUMON_BIN ?? '../bin');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = path.join(webui, 'test-results');
const SITE = path.join(webui, 'site/app');
const AGENT_TOKEN = 'e2e-agent-token';
const ADMIN_TOKEN = 'e2e-admin-token';
/** Machines posted for the load measurement (GPUMON_E2E_FLEET=1000 for a big fleet). */
const FLEET = Math.max(1, Number(process.env.GPUMON_E2E_FLEET) || 100);
/** The hub's --idle-after: short, so the run sees a GPU become idle-held. */
const IDLE_AFTER_S = 20;

const children = [];
const results = [];
let failed = 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(name, args, logs) {
  const bin = path.join(BIN, name);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => logs.push(`[${name}] ${d}`));
  child.stderr.on('data', (d) => logs.push(`[${name}] ${d}`));
  children.push(child);
  return child;
}

async function waitFor(fn, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
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
  for (const b of ['gpumon-hub', 'gpumon-agent']) {
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
  const hubArgs = ['--data-dir', path.join(tmp, 'data'), '--http-addr', `127.0.0.1:${httpPort}`, '--grpc-addr', `127.0.0.1:${grpcPort}`, '--agent-token', AGENT_TOKEN, '--admin-token', ADMIN_TOKEN, '--legacy-open', '--log-level', 'warn', '--idle-after', `${IDLE_AFTER_S}s`, ...(await alertHubArgs(tmp))];
  let hubChild = start('gpumon-hub', hubArgs, logs);
  await waitFor(async () => (await fetch(`${hub}/api/v1/machines`)).ok, 20_000, 'the hub');
  const restartHub = async () => {
    const exited = new Promise((r) => hubChild.on('exit', r));
    hubChild.kill('SIGTERM');
    await exited;
    hubChild = start('gpumon-hub', hubArgs, logs);
    await waitFor(async () => (await fetch(`${hub}/api/v1/machines`)).ok, 20_000, 'the restarted hub');
  };
  const agentArgs = (profile, host) => [`--simulate=${profile}`, '--hub', `127.0.0.1:${grpcPort}`, '--token', AGENT_TOKEN, '--hostname', host, '--state-dir', path.join(tmp, `state-${host}`), '--allow-kill', '--log-level', 'warn'];
  start('gpumon-agent', agentArgs('dgxh100', 'e2e-a'), logs);
  const agentsStarted = Date.now();
  const agentB = start('gpumon-agent', agentArgs('rtx4090x4', 'e2e-b'), logs);
  // A process the kill step stops; the agent reports every process of this machine.
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

  // A fresh profile directory (playwright passes it as --user-data-dir).
  const launch = (dir) =>
    chromium.launchPersistentContext(path.join(tmp, dir), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 900 },
      locale: 'en-US',
    });
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
  const shot = (name) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });

  try {
    await step('list view shows every machine', page, async () => {
      await page.goto(`${base}/#/list`);
      for (const k of ['e2e-a', 'e2e-b', 'e2e-legacy']) await page.getByTestId(`machine-${k}`).waitFor({ state: 'attached', timeout: 15_000 });
      check((await page.title()) === 'gpumon', `title is ${await page.title()}`);
      await page.getByTestId('machine-e2e-a').getByTestId('gpu-7').waitFor({ timeout: 15_000 });
      await page.getByTestId('conn').and(page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 });
      await page.getByText('4 machines online').waitFor();
      await shot('list');
    });

    await step('a machine header says what its GPU cards show', page, async () => {
      // Several looks while the simulated figures move: each time, the header's
      // busy count and memory are those of the cards below it.
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
          for (const g of el.querySelectorAll('.gpu-card')) {
            const [u, t] = g.querySelector('.mem-progress .ant-progress-indicator').textContent.replace(/[^\d/]/g, '').split('/').map(Number);
            used += u;
            total += t;
            const util = g.querySelector('.meter .ant-progress-indicator').textContent;
            if ((util !== '0%' && util !== '–') || g.querySelector('.process-table')) busy++;
          }
          return { head: el.querySelector('.machine-gpus').textContent, cards: `${busy} busy · ${fmt(used)} / ${fmt(total)}` };
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
      await shot('window');
    });

    await step('copy screen and docker commands', page, async () => {
      await page.goto(`${base}/#/window/e2e-legacy`);
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: /Sessions/ }).click();
      await content.getByTestId('session-train.v2').click();
      await waitFor(async () => (await clipboard()) === 'screen -R train.v2', 5000, 'screen -R on the clipboard');
      await content.getByTestId('session-notebook').click();
      const confirm = page.getByRole('dialog').filter({ hasText: 'Someone is attached' });
      await confirm.waitFor();
      await shot('screen-confirm');
      await confirm.getByRole('button', { name: 'Copy' }).click();
      await waitFor(async () => (await clipboard()) === 'screen -x notebook', 5000, 'screen -x on the clipboard');
      await content.getByRole('tab', { name: /Containers/ }).click();
      await content.getByText('0, 1', { exact: true }).waitFor();
      await content.getByTestId('container-3f2a9c1b7d4e').click();
      await waitFor(async () => (await clipboard()) === 'docker exec -it 3f2a9c1b7d4e bash', 5000, 'docker exec on the clipboard');
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
      await dlg.getByLabel('Refresh interval (seconds)').fill('3');
      await dlg.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await dlg.getByLabel('My user name').fill('alice');
      await shot('settings');
      await dlg.getByRole('button', { name: 'Save' }).click();
      await dlg.waitFor({ state: 'hidden' });
      await page.reload();
      await page.getByTestId('open-settings').click();
      const again = page.getByRole('dialog').filter({ hasText: 'Settings' });
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
      const confirm = page.getByRole('dialog').filter({ hasText: 'Stop 1 process' });
      await confirm.getByRole('button', { name: 'Stop' }).click();
      const result = page.getByTestId('kill-result');
      await result.waitFor({ timeout: 20_000 });
      await result.getByText(String(victim.pid)).waitFor();
      await shot('kill-result');
      const text = await result.innerText();
      check(/success/.test(text), `kill result: ${text}`);
      const how = await Promise.race([victimGone, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      check(how === 'SIGTERM', `victim: ${how}`);
      await page.getByRole('dialog').filter({ has: result }).getByRole('button', { name: 'OK' }).click();
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
        await sw.waitFor();
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
      await g0.getByText('1 Python processes, 1 others hidden (Settings)').waitFor();
      check((await g0.locator('.process-table').getByText('root').count()) === 0, 'the X server still listed with Python only');
      await page.reload();
      await g0.getByText('1 Python processes, 1 others hidden (Settings)').waitFor({ timeout: 15_000 });
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
        await content.getByTestId('gpu-7').getByRole('button', { name: 'History' }).click();
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
        await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: label }).click();
        const body = await (await stage(`${metric} answer`, answer)).json();
        const points = (body.series ?? []).reduce((a, x) => a + (x.points?.length ?? 0), 0);
        if (metric === 'user_gpu_sm_utilization' && points === 0) continue; // no process on GPU 7 this minute
        check(points > 0, `${metric}: no history for GPU 7`);
        await stage(`${metric} line`, before.modal.locator('path.recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 }));
      }
      await shot('history-gpu-temperature');
      await before.modal.getByRole('button', { name: 'Close' }).click();
      const content = page.getByTestId('window-content');
      await content.getByRole('tab', { name: 'History' }).click();
      await stage('machine chart line', content.locator('.machine-history .recharts-line-curve').first().waitFor({ state: 'attached', timeout: 15_000 }));
      await content.locator('.machine-history').scrollIntoViewIfNeeded();
      await shot('history');

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
      await page.goto(`${base}/#/list`);
      await page.getByTestId('machine-e2e-legacy').getByTestId('gpu-1').waitFor();
      await shot('mobile-list');
      await page.goto(`${base}/#/window/e2e-legacy`);
      await page.getByTestId('window-content').getByTestId('gpu-1').waitFor();
      await shot('mobile-window');
      await page.setViewportSize({ width: 1440, height: 900 });
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

    await step(`${FLEET}-machine fleet: time to show`, page, async () => {
      for (let i = 0; i < FLEET; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, FLEET - i) }, (_, j) => post(hub, '/api/report-gpu-stats', loadReport(i + j))));
      }
      // One open page, as a person has one tab of it (the other page would
      // compete for the same renderer).
      await page.goto('about:blank');
      const load = async (ctx) => {
        const fresh = await ctx.newPage();
        fresh.on('pageerror', (e) => pageErrors.push(e.message));
        const t0 = Date.now();
        await fresh.goto(`${base}/#/list`);
        await fresh.getByText(/^\d+ machines online$/).waitFor({ timeout: 30_000 });
        await fresh.locator('.machine-card').nth(19).waitFor({ state: 'attached', timeout: 30_000 });
        const ms = Date.now() - t0;
        const marks = await fresh.evaluate(() => {
          const at = (e) => (e ? Math.round(e.startTime) : -1);
          return {
            dcl: Math.round(performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0),
            scripts: at(performance.getEntriesByName('gpumon:scripts-ready')[0]),
            render: at(performance.getEntriesByName('gpumon:render')[0]),
            // Whether that first render already had the machine list (then
            // the first contentful paint is the fleet on screen).
            withFleet: !!performance.getEntriesByName('gpumon:render')[0]?.detail?.withFleet,
            fcp: at(performance.getEntriesByName('first-contentful-paint')[0]),
          };
        });
        return { fresh, ms, marks };
      };
      const detail = (r) =>
        `${r.ms} ms as the test saw it; page clock: scripts ready ${r.marks.scripts}, first render ${r.marks.render} ` +
        `(${r.marks.withFleet ? 'with' : 'before'} the machine list), first contentful paint ${r.marks.fcp}, DOMContentLoaded ${r.marks.dcl}`;
      // A first visit: a new browser profile, nothing cached.
      const coldContext = await launch('chromium-cold');
      try {
        const cold = await load(coldContext);
        console.log(`${FLEET}-machine fleet, first visit (nothing cached): totals and the first 20 machine cards shown in ${detail(cold)}`);
      } finally {
        await coldContext.close();
      }
      // Returning visits: the page's files cached, as on every visit after the first.
      const warm = [];
      for (let i = 0; i < 3; i++) {
        const r = await load(context);
        warm.push(r);
        console.log(`${FLEET}-machine fleet, returning visit ${i + 1}: totals and the first 20 machine cards shown in ${detail(r)}`);
        if (i < 2) await r.fresh.close();
      }
      const median = (xs) => xs.sort((a, b) => a - b)[1];
      const painted = warm.every((r) => r.marks.withFleet) ? `; first paint, which already holds them, at ${median(warm.map((r) => r.marks.fcp))} ms` : '';
      console.log(`${FLEET}-machine fleet: shown ${median(warm.map((r) => r.ms))} ms after navigation as the test saw it${painted} (medians of 3 returning visits)`);
      const fresh = warm[2].fresh;
      await fresh.screenshot({ path: path.join(OUT, 'fleet-100.png') });
      const t1 = Date.now();
      await fresh.getByRole('button', { name: 'Expand all' }).click();
      await fresh.locator('.machine-card').nth(19).getByTestId('gpu-3').waitFor({ state: 'attached', timeout: 60_000 });
      console.log(`${FLEET}-machine fleet: 20 cards expanded with their GPUs in ${Date.now() - t1} ms`);
      await fresh.screenshot({ path: path.join(OUT, 'fleet-100-expanded.png') });
      await fresh.close();
    });

    await step('forget an offline machine', page, async () => {
      // e2e-b's agent was stopped above; the admin token is in the settings.
      await page.goto(`${base}/#/window/e2e-b`);
      const content = page.getByTestId('window-content');
      await content.getByRole('heading', { name: 'e2e-b' }).waitFor();
      await content.getByTestId('forget-machine').click();
      await page.getByText('Forget e2e-b?').waitFor();
      await page.waitForTimeout(400); // the popup's opening animation
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
  } finally {
    clearInterval(legacyTimer);
    await browser.close();
    for (const c of children) if (c.exitCode == null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (failed) console.log(logs.join('').slice(-4000));
  }
  const passed = results.filter((r) => r.ok).length;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  console.log(`screenshots in ${path.relative(process.cwd(), OUT) || '.'}/`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`e2e: ${e.message}`);
  for (const c of children) if (c.exitCode == null) c.kill('SIGTERM');
  process.exit(1);
});
