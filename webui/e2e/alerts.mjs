// Browser steps of the alerts view, the header's bell and the notification
// permission flow, against the hub run.mjs starts (with alertHubArgs).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The machine whose reports make the test rule fire and stop. */
const FLAG = 'e2e-flag';

/** The hub's extra flags: a rule that fires while e2e-flag's GPU is busy, evaluated every second. */
export async function alertHubArgs(dir) {
  const file = path.join(dir, 'e2e.rules.yml');
  await writeFile(
    file,
    `groups:
  - name: e2e
    rules:
      - alert: E2EFlagBusy
        expr: gpumon_gpu_free{machine="${FLAG}"} == 0
        labels:
          severity: critical
        annotations:
          summary: "${FLAG} is busy"
`,
  );
  return ['--rules', file, '--rule-interval', '1s'];
}

/** A report of e2e-flag: its one GPU busy (a job holds it) or free. */
function flagReport(busy) {
  const job = { pid: 7007, name: 'python', cmdline: 'python busy.py', cpu_percent: 90, memory_percent: 1, create_time: Date.now() / 1000 - 60,
    status: 'running', username: 'alice', is_gpu_process: true, gpu_memory_usage: 40000, gpu_id: 0 };
  return {
    hostname: FLAG,
    timestamp: new Date().toISOString().replace('Z', ''),
    gpu_data: [{ id: 0, name: 'NVIDIA H100 80GB HBM3', temperature: 40, memory_used: busy ? 40000 : 0, memory_total: 81920, utilization: busy ? 95 : 0, processes: busy ? [job] : [] }],
    system_info: { cpu_percent: 3, memory_total: 1 << 30, memory_used: 1 << 29, memory_percent: 50, disk_total: 1 << 30, disk_used: 1 << 28, disk_percent: 25, ip_address: '10.0.0.9', screen_sessions: [], docker_containers: [], processes: [job] },
  };
}

/** Records every notification the page shows in window.__notes (the real ones are shown too). */
const RECORD_NOTES = () => {
  const Real = window.Notification;
  if (!Real || window.__notes) return;
  window.__notes = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push(title);
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
};

export async function alertSteps({ step, check, page, context, launch, base, post, shot }) {
  let flagBusy = true;
  const postFlag = () => post(base, '/api/report-gpu-stats', flagReport(flagBusy)).catch(() => {});
  await postFlag();
  const flagTimer = setInterval(postFlag, 1500);
  const firing = async () => ((await (await fetch(`${base}/api/v1/active-alerts`)).json()).alerts ?? []).filter((a) => a.state === 'firing');
  const waitUntil = async (what, cond, ms = 60_000) => {
    for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) if (await cond()) return;
    throw new Error(`timed out waiting for ${what}`);
  };
  const flagAlert = async () => (await firing()).some((a) => a.name === 'E2EFlagBusy' && a.machine === FLAG);
  try {
    await step('alerts: the bell counts what fires, the view lists it and links the machine', page, async () => {
      await waitUntil('the rule to fire', flagAlert);
      await page.goto(`${base}/#/list`);
      const bell = page.getByTestId('alert-bell');
      await waitUntil('the bell to count the firing alerts', async () => {
        const want = (await firing()).length;
        return want > 0 && Number(await bell.getAttribute('data-count')) === want;
      });
      await bell.click();
      await page.waitForURL((u) => u.hash === '#/alerts');
      const row = page.getByTestId(`alert-E2EFlagBusy-${FLAG}`);
      // The view lists by severity, the newest first, 50 to a page: once
      // the fleet steps' machines have been offline for a minute, their
      // alerts fire one after another and come before this one, which then
      // moves to later pages while the pager walks them. Past the last page
      // the walk starts over from the first.
      const next = page.locator('.alerts-page .ant-pagination-next:not(.ant-pagination-disabled)');
      const first = page.locator('.alerts-page .ant-pagination-item-1:not(.ant-pagination-item-active)');
      await waitUntil('the alert in the view', async () => {
        if ((await row.count()) > 0) return true;
        if ((await next.count()) > 0) await next.click();
        else if ((await first.count()) > 0) await first.click();
        return false;
      }, 30_000);
      check((await row.innerText()).includes(`${FLAG} is busy`) && (await row.innerText()).includes('critical'), `row: ${await row.innerText()}`);
      await shot('alerts');
      await row.getByTestId(`alert-machine-${FLAG}`).click();
      await page.waitForURL((u) => u.hash === `#/window/${FLAG}`);
      await page.goto(`${base}/#/alerts`);
      await page.getByTestId('lang-switch').click();
      await page.getByRole('heading', { name: '告警' }).waitFor();
      await page.getByText(/条正在触发/).first().waitFor();
      await shot('alerts-zh');
      await page.getByTestId('lang-switch').click();
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    });

    await step('alerts: notifications blocked by the browser are said so', page, async () => {
      const denied = await launch('chromium-notify-denied');
      try {
        const p = await denied.newPage();
        await p.goto(`${base}/#/alerts`);
        const line = p.getByTestId('notify-permission');
        await line.and(p.locator('[data-state="default"]')).waitFor({ timeout: 15_000 });
        check(await p.getByTestId('notify-free').isDisabled(), 'the free-GPU switch works without permission');
        await p.getByTestId('notify-allow').click();
        await line.and(p.locator('[data-state="denied"]')).waitFor({ timeout: 15_000 });
        check((await line.innerText()).includes('blocked'), `permission line: ${await line.innerText()}`);
        check(await p.getByTestId('notify-pinned').isDisabled(), 'the pinned-alerts switch works without permission');
      } finally {
        await denied.close();
      }
    });

    await step('alerts: allowed notifications tell of a pinned machine’s alert and of a GPU that frees', page, async () => {
      flagBusy = false;
      await postFlag();
      await waitUntil('the rule to resolve', async () => !(await flagAlert()));
      await context.grantPermissions(['notifications'], { origin: base });
      await context.addInitScript(RECORD_NOTES);
      await page.goto(`${base}/#/alerts`);
      await page.reload();
      await page.getByTestId('notify-permission').and(page.locator('[data-state="granted"]')).waitFor({ timeout: 15_000 });
      await page.locator('#notify-pins').click();
      await page.keyboard.type(FLAG);
      await page.keyboard.press('Enter');
      await page.keyboard.press('Escape');
      await page.getByTestId('notify-pinned').click();
      await page.getByTestId('notify-free').click();
      await shot('alerts-notify');
      await page.waitForTimeout(3000); // a few looks: what fires and what is free now is not news
      const notes = () => page.evaluate(() => window.__notes ?? []);
      check(!(await notes()).some((n) => n.includes(FLAG)), `notified before anything changed: ${await notes()}`);
      flagBusy = true;
      await postFlag();
      await waitUntil('the alert notification', async () => (await notes()).includes(`critical: ${FLAG} is busy`));
      // The page looks at the free GPUs every refresh interval: let it see
      // the GPU taken before it frees.
      await waitUntil('the hub to list the GPU as taken', async () => {
        const free = await (await fetch(`${base}/api/v1/free-gpus`)).json();
        return !(free.gpus ?? []).some((g) => g.machine === FLAG);
      });
      const refresh = await page.evaluate(() => JSON.parse(localStorage.getItem('gpumon.settings') ?? '{}').refreshSeconds ?? 5);
      await page.waitForTimeout((refresh + 1) * 1000);
      flagBusy = false;
      await postFlag();
      await waitUntil('the free-GPU notification', async () => (await notes()).includes(`GPU 0 on ${FLAG} is free`));
      const alertsShown = (await notes()).filter((n) => /^(critical|warning|info):/.test(n));
      check(alertsShown.every((n) => n.includes(FLAG)), `alerts of machines not pinned: ${alertsShown}`);
      // The preferences last across a reload.
      await page.reload();
      check(await page.getByTestId('notify-pinned').isChecked(), 'the pinned-alerts switch is off after a reload');
    });
  } finally {
    clearInterval(flagTimer);
  }
}
