import { Alert, Flex, Segmented, Select, Skeleton } from 'antd';
import { lazy, Suspense, useState } from 'react';
import { ApiError } from '../../api/client';
import { useHistory } from '../../api/hooks';
import { formatDuration } from '../../lib/format';
import { RANGES, stepFor, type RangeKey, type ValueKind } from '../../lib/history';
import type { MessageKey } from '../../state/messages';
import { useI18n } from '../../state/i18n';

const HistoryChart = lazy(() => import('../../components/HistoryChart'));

// Names the hub's history route accepts (it maps them to dcgm-exporter's
// series). A GPU that does not report a figure has no history of it.
const GPU_METRICS = [
  'gpu_utilization',
  'user_gpu_sm_utilization',
  'gpu_memory_used',
  'gpu_temperature',
  'gpu_power',
  'gpu_sm_clock',
  'gpu_memory_clock',
  'gpu_fan_speed',
  'gpu_memory_utilization',
  'gpu_ecc_corrected',
  'gpu_ecc_uncorrected',
  'gpu_pcie_generation',
  'gpu_pcie_width',
] as const;
const MACHINE_METRICS = [
  'gpu_utilization',
  'gpu_memory_used',
  'gpu_temperature',
  'gpu_power',
  'gpu_sm_clock',
  'gpu_ecc_uncorrected',
  'cpu_percent',
  'memory_percent',
  'disk_percent',
  'load1',
] as const;
// What each metric's values are: their unit and precision on the axis and in the tooltip.
const KINDS: Record<string, ValueKind> = {
  gpu_utilization: 'percent',
  user_gpu_sm_utilization: 'percent',
  gpu_memory_utilization: 'percent',
  gpu_fan_speed: 'percent',
  cpu_percent: 'percent',
  memory_percent: 'percent',
  disk_percent: 'percent',
  gpu_memory_used: 'mib',
  gpu_temperature: 'celsius',
  gpu_power: 'watt',
  gpu_sm_clock: 'mhz',
  gpu_memory_clock: 'mhz',
  load1: 'load',
};

/** History of one machine (or one of its GPUs) from GET /api/v1/history. */
export function MachineHistory({ machine, gpu }: { machine: string; gpu?: number }) {
  const { t } = useI18n();
  const metrics = gpu == null ? MACHINE_METRICS : GPU_METRICS;
  const [metric, setMetric] = useState<string>(metrics[0]);
  const [range, setRange] = useState<RangeKey>('1h');
  const rangeSeconds = RANGES[range];
  const q = useHistory({ metric, machine, gpu, rangeSeconds, step: stepFor(rangeSeconds) });
  const notStored = q.error instanceof ApiError && [404, 501, 503].includes(q.error.status);
  return (
    <div className="machine-history">
      <Flex gap={8} wrap align="center" className="history-bar">
        <Select
          size="small"
          aria-label={t('history.metric')}
          value={metric}
          onChange={setMetric}
          style={{ minWidth: 200 }}
          virtual={false}
          options={metrics.map((m) => ({ value: m, label: t(`metric.${m}` as MessageKey) }))}
        />
        <Segmented
          size="small"
          aria-label={t('history.range')}
          value={range}
          onChange={(v) => setRange(v as RangeKey)}
          options={(Object.keys(RANGES) as RangeKey[]).map((k) => ({ value: k, label: formatDuration(RANGES[k], t) }))}
        />
      </Flex>
      {q.isLoading ? (
        <Skeleton active paragraph={{ rows: 4 }} />
      ) : q.error && !notStored ? (
        <Alert type="warning" showIcon title={(q.error as Error).message} />
      ) : (
        <Suspense fallback={<Skeleton active paragraph={{ rows: 4 }} />}>
          <HistoryChart
            series={notStored ? [] : q.data?.series}
            rangeSeconds={rangeSeconds}
            emptyText={t('history.none')}
            emptyHint={t('history.noneHint')}
            kind={KINDS[metric] ?? 'count'}
            label={`${t(`metric.${metric}` as MessageKey)}${gpu == null ? '' : ` · GPU ${gpu}`}`}
          />
        </Suspense>
      )}
    </div>
  );
}
