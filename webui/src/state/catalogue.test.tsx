// Every word the page shows comes from the catalogue (messages.ts), in the
// language chosen: each page is rendered in Chinese against a hub's answers
// and whatever Latin-script word is left must be a name (a machine, a user,
// a command, from the hub's data) or a unit. And in English, counts agree
// with their nouns ("1 process", never "1 processes" or "process(es)").
import { fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, proc, summary } from '../test/fixtures';
import { renderAt, stubHub } from '../test/hub';
import { alertEn, alertText, type AlertMessageKey } from './alertMessages';
import { en, pluralForm, translate, zh, type MessageKey } from './messages';

afterEach(() => vi.unstubAllGlobals());

const machine = summary({ key: 'gpu-01', hostname: 'gpu-01', gpu_count: 2, gpus_busy: 1, gpus_free: 1 });
const offline = summary({ key: 'gpu-02', hostname: 'gpu-02', online: false, gpu_count: 1 });
const train = proc({
  pid: 4242,
  name: 'python',
  cmdline: 'python train.py --model llama-7b --batch-size 32',
  username: 'alice',
  session: { kind: 'screen', name: 'train-llama', user: 'alice' },
  sm_utilization: 61,
});
const report = {
  hostname: 'gpu-01',
  driver_version: '550.54.15',
  cuda_version: '12.4',
  gpu_data: [
    gpu({ id: 0, processes: [train], idle_since: '2026-11-29T02:00:00Z' }),
    gpu({ id: 1, utilization: 0, memory_used: 3, processes: [] }),
  ],
  system_info: {
    cpu_model: 'AMD EPYC 7763',
    cpu_cores: 128,
    cpu_percent: 12.5,
    memory_total: 270157156352,
    memory_used: 54031431270,
    memory_percent: 20,
    disk_total: 1967317549056,
    disk_used: 786927019622,
    disk_percent: 40,
    ip_address: '10.0.3.17',
    uptime_seconds: 90061,
    os: 'Ubuntu 22.04.4 LTS',
    kernel: '5.15.0-105-generic',
    load: { load1: 1.5, load5: 1.2, load15: 0.9 },
    screen_sessions: [
      { pid: '28811', name: 'train-llama', status: 'Detached', user: 'alice' },
      { pid: '30012', name: 'notebook', status: 'Attached', user: 'bob' },
    ],
    tmux_sessions: [{ pid: '31000', name: 'eval', status: 'attached', user: 'carol', kind: 'tmux' }],
    docker_containers: [{ id: '3f2a9c1b7d4e', name: 'bert-finetune', status: 'Up 3 hours', image: 'nvcr.io/nvidia/pytorch:24.05-py3', memoryUsage: 8589934592, gpuDevices: '[0 1]', cpu_percent: 3 }],
    processes: [train, proc({ pid: 1, name: 'systemd', cmdline: '/sbin/init', username: 'root', is_gpu_process: false, gpu_memory_usage: 0 })],
  },
};
const answers: Record<string, unknown> = {
  '/api/v1/machines': { machines: [machine, offline], totals: { machines: 2, machines_online: 1, machines_offline: 1, gpus: 2, gpus_busy: 1, gpus_free: 1, gpus_offline: 1 } },
  '/api/v1/machines/gpu-01': { summary: machine, report },
  '/api/v1/machines/gpu-02': { summary: offline, report: { ...report, hostname: 'gpu-02', is_online: false } },
  '/api/gpu-stats': { machines: { 'gpu-01': report } },
  '/api/v1/free-gpus': {
    gpus: [{ machine: 'gpu-01', hostname: 'gpu-01', index: 1, name: 'NVIDIA A100-SXM4-80GB', memory_free: 81917, memory_total: 81920, utilization: 0, temperature: 40, process_count: 0, compute_process_count: 0, score: 0.99, online: true }],
    criteria: { max_utilization: 10, min_free_percent: 90, min_free_memory: 0 },
  },
  '/api/v1/gpus': {
    gpus: [
      { machine: 'gpu-01', hostname: 'gpu-01', online: true, index: 0, name: 'NVIDIA A100-SXM4-80GB', utilization: 97, memory_used: 40321, memory_total: 81920, memory_free: 41599, temperature: 61, power_draw: 312, users: ['alice'], process_count: 1, busy: true },
      { machine: 'gpu-01', hostname: 'gpu-01', online: true, index: 1, name: 'NVIDIA A100-SXM4-80GB', utilization: 0, memory_used: 3, memory_total: 81920, memory_free: 81917, temperature: 40, users: [], process_count: 0, free: true },
    ],
  },
  '/api/v1/usage': {
    users: [
      { name: 'alice', gpu_hours: 1, gpu_memory_gib_hours: 39.4 },
      { name: 'unknown', gpu_hours: 0.5, gpu_memory_gib_hours: 2 },
    ],
    machines: [{ name: 'gpu-01', gpu_hours: 1.5, gpu_memory_gib_hours: 41.4 }],
    total: { name: '', gpu_hours: 1.5, gpu_memory_gib_hours: 41.4 },
    idle_held: [{ machine: 'gpu-01', hostname: 'gpu-01', index: 0, name: 'NVIDIA A100-SXM4-80GB', memory_used: 40321, idle_seconds: 3720, users: ['alice'] }],
    idle_after_seconds: 1800,
  },
  '/api/v1/history': { series: [], step_seconds: 15 },
  '/api/v1/active-alerts': {
    alerts: [
      {
        name: 'GpuTooHot',
        machine: 'gpu-01',
        hostname: 'gpu-01',
        gpu: 0,
        state: 'firing',
        severity: 'critical',
        active_at: '2026-11-29T02:00:00Z',
        fired_at: '2026-11-29T02:01:00Z',
        annotations: { summary: 'GPU 0 of gpu-01 is at 91 degrees' },
        labels: { alertname: 'GpuTooHot', machine: 'gpu-01', gpu: '0', severity: 'critical' },
      },
    ],
    rules: 1,
  },
};

function hub() {
  stubHub((p) => (p in answers ? { body: answers[p] } : { status: 404, body: { status: 'error', message: 'not found' } }));
}

/** Names and units that stay as they are in Chinese: product words, units, and the hub's data. */
const KEEP = new Set(
  [
    'gpumon', 'GPU', 'GPUs', 'CPU', 'PID', 'SM', 'ID', 'IP', 'API', 'URL', 'ECC', 'PCIe', 'CUDA', 'NVIDIA', 'Python', 'py', 'screen', 'tmux', 'docker',
    'Docker', 'ssh', 'SIGTERM', 'Agent', 'agent', 'Hub', 'hub', 'POST', 'EN', 'English', 'MiB', 'GiB', 'TiB', 'KiB', 'MHz', 'W', 'GPU-hours',
    'host', 'ip', 'key', 'alice', 'lab', 'TARGET', 'token', 'http', 'localhost', // the page's own address, the settings' placeholder
  ].map((w) => w.toLowerCase()),
);

/** Every word of the hub's answers: machine names, users, commands, images. */
function dataWords(): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const w of v.match(/[A-Za-z]+/g) ?? []) out.add(w.toLowerCase());
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(answers);
  return out;
}

/**
 * The Latin-script words on the page (its text, and the labels, titles and
 * placeholders the page sets) that are neither names nor units. Ant Design's
 * icons label themselves with their names ("search"): those are left out.
 */
function foreignWords(): string[] {
  const data = dataWords();
  const texts: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n.textContent ?? '');
  for (const el of document.querySelectorAll('[aria-label],[title],[placeholder],[alt],[aria-valuetext]')) {
    if (el.classList.contains('anticon')) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-valuetext']) texts.push(el.getAttribute(a) ?? '');
  }
  const words = texts
    .join(' ')
    .replace(/--[\w-]+/g, ' ') // flags: --allow-kill
    .replace(/[\w/]+\.md\b/g, ' ') // a document named: docs/ALERTS.md
    .replace(/\{[a-z]+\}/g, ' ') // placeholders the settings explain: {host}
    .replace(/°C/g, ' ')
    .match(/[A-Za-z]+/g);
  return [...new Set((words ?? []).filter((w) => !KEEP.has(w.toLowerCase()) && !data.has(w.toLowerCase())))];
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('the catalogue', () => {
  it('has every message in both languages, with the same placeholders', () => {
    const holes = (m: string) => [...m.matchAll(/\{(\w+)\}/g)].map((x) => x[1]).sort().join();
    for (const key of Object.keys(en) as MessageKey[]) {
      const e = en[key];
      const z = zh[key];
      expect(z, key).toBeTruthy();
      const forms = typeof e === 'string' ? [e] : [e.one, e.other];
      const zforms = typeof z === 'string' ? [z] : [z.one, z.other];
      for (const f of [...forms, ...zforms]) expect(holes(f), `${key}: ${f}`).toBe(holes(forms[forms.length - 1]));
    }
  });

  it('agrees counts and nouns in English', () => {
    for (const key of Object.keys(en) as MessageKey[]) {
      const m = en[key];
      const vars = { n: 1, shown: 1, busy: 1, failed: 1, host: 'h', gpus: '1 GPU', machines: '1 machine', metric: 'x' };
      const one = translate('en', key, vars);
      expect(one, key).not.toMatch(/\(e?s\)|\b1 (processes|machines|GPUs|days|hours|others)\b/);
      if (typeof m !== 'string') expect(pluralForm(m, 'en', { n: 2 }), key).not.toBe(pluralForm(m, 'en', { n: 1 }));
    }
    expect(translate('en', 'kill.confirmTitle', { n: 1, host: 'gpu-01' })).toBe('Stop 1 process on gpu-01?');
    expect(translate('en', 'kill.confirmTitle', { n: 2, host: 'gpu-01' })).toBe('Stop 2 processes on gpu-01?');
    expect(translate('zh', 'kill.confirmTitle', { n: 1, host: 'gpu-01' })).toBe('结束 gpu-01 上的 1 个进程？');
    // The alerts view's words (loaded with the view) too.
    for (const key of Object.keys(alertEn) as AlertMessageKey[]) {
      expect(alertText('en', key, { n: 1 }), key).not.toMatch(/\(e?s\)|\b1 [a-z]+ (rules|alerts|machines|GPUs)\b|\b1 (rules|alerts|machines|GPUs)\b/);
    }
    expect(alertText('en', 'alerts.rules', { n: 1 })).toMatch(/^1 alerting rule \(/);
  });
});

describe('every page in Chinese speaks Chinese', () => {
  it.each([
    ['/list', 'machine-gpu-01'],
    ['/window/gpu-01', 'gpu-0'],
    ['/window/gpu-01?tab=processes', 'gpu-0'],
    ['/window/gpu-01?tab=containers', 'gpu-0'],
    ['/window/gpu-01?tab=history', 'gpu-0'],
    ['/window/gpu-01?gpu=0', 'gpu-0'],
    ['/window/gpu-02', 'gpu-0'],
    ['/overview', 'overview-count'],
    ['/free-gpus', 'free-count'],
    ['/search?q=python', 'gpu-0'],
    ['/usage', 'usage-overlap'],
    ['/alerts', 'notify-card'],
  ])('%s', async (path, ready) => {
    hub();
    renderAt(path, { language: 'zh', adminToken: 'x', myUser: 'alice' });
    if (path.startsWith('/search')) await screen.findAllByText('python train.py --model llama-7b --batch-size 32', {}, { timeout: 30_000 });
    else await screen.findAllByTestId(ready, {}, { timeout: 30_000 });
    await settle();
    expect(foreignWords()).toEqual([]);
  });

  it('the settings dialog', async () => {
    hub();
    renderAt('/list', { language: 'zh' });
    await screen.findByTestId('machine-gpu-01', {}, { timeout: 30_000 });
    fireEvent.click(screen.getByTestId('open-settings'));
    await screen.findByText('复制命令时 ssh 到', {}, { timeout: 30_000 });
    await settle();
    expect(foreignWords()).toEqual([]);
  });

  it('the kill confirmation and its result', async () => {
    hub();
    renderAt('/window/gpu-01', { language: 'zh', adminToken: 'x' });
    await screen.findAllByTestId('gpu-0', {}, { timeout: 30_000 });
    fireEvent.click(screen.getByRole('button', { name: '结束 4242' }));
    await screen.findAllByText('结束 gpu-01 上的 1 个进程？', {}, { timeout: 30_000 });
    await settle();
    expect(foreignWords()).toEqual([]);
  });
});
