// Reports in the documented (seed) format, posted to /api/report-gpu-stats.

export const XSS = '<img src=x onerror=alert(1)>';

const now = () => new Date().toISOString().replace('Z', '');

export function legacyReport(hostname) {
  const start = Date.now() / 1000 - 3600;
  const train = {
    pid: 41234,
    name: 'python',
    cmdline: 'python train.py --config configs/v2.yaml',
    cpu_percent: 101.5,
    memory_percent: 3.25,
    create_time: start,
    status: 'running',
    username: 'alice',
    is_gpu_process: true,
    gpu_memory_usage: 40000,
    gpu_id: 0,
  };
  const xss = {
    pid: 41999,
    name: 'python',
    cmdline: `python evil.py ${XSS}`,
    cpu_percent: 2,
    memory_percent: 0.5,
    create_time: start + 60,
    status: 'running',
    username: 'mallory',
    is_gpu_process: true,
    gpu_memory_usage: 2048,
    gpu_id: 1,
  };
  return {
    hostname,
    timestamp: now(),
    gpu_data: [
      { id: 0, name: 'NVIDIA A100-SXM4-80GB', temperature: 61, memory_used: 40321, memory_total: 81920, utilization: 97, processes: [train] },
      { id: 1, name: 'NVIDIA A100-SXM4-80GB', temperature: 85, memory_used: 20480, memory_total: 81920, utilization: 0, processes: [xss] },
    ],
    system_info: {
      cpu_percent: 12.5,
      memory_total: 270157156352,
      memory_used: 54031431270,
      memory_percent: 20,
      disk_total: 1967317549056,
      disk_used: 786927019622,
      disk_percent: 40,
      ip_address: '10.0.3.17',
      screen_sessions: [
        { pid: '28811', name: 'train.v2', status: 'Detached' },
        { pid: '30012', name: 'notebook', status: 'Attached' },
      ],
      docker_containers: [
        { id: '3f2a9c1b7d4e', name: 'bert-finetune', status: 'Up 3 hours', image: 'nvcr.io/nvidia/pytorch:24.05-py3', memoryUsage: 8589934592, gpuDevices: '[0 1]' },
      ],
      processes: [
        train,
        xss,
        { pid: 1, name: 'systemd', cmdline: '/sbin/init', cpu_percent: 0, memory_percent: 0.01, create_time: 1764000000, status: 'sleeping', username: 'root', is_gpu_process: false, gpu_memory_usage: 0, gpu_id: null },
      ],
    },
  };
}

/** A small machine for the load measurement. */
export function loadReport(i) {
  const gpus = Array.from({ length: 4 }, (_, g) => ({
    id: g,
    name: 'NVIDIA GeForce RTX 4090',
    temperature: 40 + ((i + g) % 40),
    memory_used: ((i * 7 + g * 3) % 24) * 1000,
    memory_total: 24564,
    utilization: (i * 13 + g * 29) % 100,
    processes: [],
  }));
  return {
    hostname: `load-${String(i).padStart(3, '0')}`,
    timestamp: now(),
    gpu_data: gpus,
    system_info: {
      cpu_percent: i % 100,
      memory_total: 68719476736,
      memory_used: 34359738368,
      memory_percent: 50,
      disk_total: 1e12,
      disk_used: 3e11,
      disk_percent: 30,
      ip_address: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      screen_sessions: [],
      docker_containers: [],
      processes: [],
    },
  };
}
