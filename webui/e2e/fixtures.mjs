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
  // A desktop's X server on GPU 0: not a Python job, shown unless the
  // Python-only setting is on.
  const xorg = {
    pid: 2101,
    name: 'Xorg',
    cmdline: '/usr/lib/xorg/Xorg :0 -nolisten tcp',
    cpu_percent: 0.5,
    memory_percent: 0.2,
    create_time: start - 600,
    status: 'sleeping',
    username: 'root',
    is_gpu_process: true,
    gpu_memory_usage: 321,
    gpu_id: 0,
    gpu_usage_type: 'graphics',
  };
  return {
    hostname,
    timestamp: now(),
    gpu_data: [
      { id: 0, name: 'NVIDIA A100-SXM4-80GB', temperature: 61, memory_used: 40321, memory_total: 81920, utilization: 97, processes: [train, xorg] },
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
        xorg,
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

/**
 * A workstation-and-server mix whose GPUs test the free-GPU definition:
 * GPU 0 an idle RTX 4090 (free), GPU 1 a B200 at 90 % with a job (not free;
 * with running jobs allowed, ranked below GPU 0 despite more free memory),
 * GPU 2 an RTX 4090 whose only process is the X server (free), GPU 3 an H100
 * at 0 % running a small compute job (not free by default).
 */
export function freeReport(hostname) {
  const proc = (pid, user, gpu, mib, type, cmdline) => ({
    pid, name: cmdline.split(' ')[0], cmdline, cpu_percent: 1, memory_percent: 0.1, create_time: Date.now() / 1000 - 600,
    status: 'running', username: user, is_gpu_process: true, gpu_memory_usage: mib, gpu_id: gpu, gpu_usage_type: type,
  });
  const gpus = [
    { id: 0, name: 'NVIDIA GeForce RTX 4090', temperature: 34, memory_used: 3, memory_total: 24564, utilization: 0, processes: [] },
    { id: 1, name: 'NVIDIA B200', temperature: 71, memory_used: 91000, memory_total: 183359, utilization: 90, processes: [proc(3301, 'carol', 1, 91000, 'compute', 'python pretrain.py')] },
    { id: 2, name: 'NVIDIA GeForce RTX 4090', temperature: 36, memory_used: 412, memory_total: 24564, utilization: 1, processes: [proc(3302, 'root', 2, 400, 'graphics', 'Xorg :0')] },
    { id: 3, name: 'NVIDIA H100 80GB HBM3', temperature: 40, memory_used: 500, memory_total: 81559, utilization: 0, processes: [proc(3303, 'dave', 3, 500, 'compute', 'python probe.py')] },
  ];
  return {
    hostname,
    timestamp: now(),
    gpu_data: gpus,
    system_info: {
      cpu_percent: 4, memory_total: 68719476736, memory_used: 8589934592, memory_percent: 12.5, disk_total: 1e12, disk_used: 2e11, disk_percent: 20,
      ip_address: '10.0.3.40', screen_sessions: [], docker_containers: [], processes: gpus.flatMap((g) => g.processes),
    },
  };
}
