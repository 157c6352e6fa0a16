import type { Gpu, MachineSummary, Process } from '../api/types';

export const XSS = '<img src=x onerror=alert(1)>';

export const proc = (over: Partial<Process>): Process => ({
  pid: 1000,
  name: 'python',
  cmdline: 'python train.py',
  cpu_percent: 99,
  memory_percent: 1.5,
  create_time: 1764381600,
  username: 'alice',
  is_gpu_process: true,
  gpu_memory_usage: 1000,
  gpu_id: 0,
  ...over,
});

export const gpu = (over: Partial<Gpu> = {}): Gpu => ({
  id: 0,
  name: 'NVIDIA A100-SXM4-80GB',
  temperature: 61,
  memory_used: 40321,
  memory_total: 81920,
  utilization: 97,
  processes: [
    proc({ pid: 41234, gpu_memory_usage: 40000 }),
    proc({ pid: 555, name: 'Xorg', cmdline: '/usr/lib/xorg/Xorg :0', gpu_memory_usage: 20, username: 'root' }),
  ],
  ...over,
});

export const summary = (over: Partial<MachineSummary> = {}): MachineSummary => ({
  key: 'gpu-server-01',
  hostname: 'gpu-server-01',
  online: true,
  last_seen: new Date().toISOString(),
  ip_address: '10.0.3.17',
  gpu_count: 2,
  gpus_busy: 1,
  gpu_memory_used: 40321,
  gpu_memory_total: 163840,
  cpu_percent: 12.5,
  memory_percent: 20,
  disk_percent: 40,
  max_temperature: 61,
  interval_seconds: 2,
  can_kill: true,
  ...over,
});
