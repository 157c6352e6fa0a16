import { Button, Flex, Segmented, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { StopOutlined } from '@ant-design/icons';
import { memo, useMemo, useState } from 'react';
import type { Process } from '../api/types';
import { formatDateTime, formatMiB, formatPercent, formatStartTime } from '../lib/format';
import { filterProcesses, isPython, processPlace, sortProcesses } from '../lib/processes';
import type { T } from '../state/i18n';
import { useI18n } from '../state/i18n';
import { ProcessName } from './ProcessName';

export type ProcessFilterMode = 'python' | 'all' | 'mine';

export interface KillPermission {
  allowed: boolean;
  /** Why not, when not allowed. */
  reason?: string;
  onKill: (pids: number[]) => void;
}

export interface ProcessTableProps {
  processes: readonly Process[];
  /**
   * "gpu": a GPU's processes, every one unless pythonOnly (a setting), Python
   * jobs first; "all": every process of a machine (adds CPU/memory/GPU
   * columns and a Python / All / Mine filter).
   */
  variant: 'gpu' | 'all';
  /** The "all" variant's first filter. */
  defaultFilter?: ProcessFilterMode;
  /** The "gpu" variant: only Python processes (the count says how many others there are). */
  pythonOnly?: boolean;
  myUser?: string;
  query?: string;
  kill?: KillPermission;
  containerName?: (id: string) => string | undefined;
  size?: 'small' | 'middle';
}

function columns(
  t: T,
  variant: 'gpu' | 'all',
  kill: KillPermission | undefined,
  containerName: ProcessTableProps['containerName'],
  withPlace: boolean,
  withSM: boolean,
): ColumnsType<Process> {
  const cols: ColumnsType<Process> = [
    { title: t('proc.pid'), dataIndex: 'pid', key: 'pid', width: 80, render: (pid: number) => <Typography.Text code>{pid}</Typography.Text> },
    {
      title: t('proc.name'),
      key: 'name',
      ellipsis: true,
      render: (_: unknown, p) => (
        <Flex gap={6} align="center" className="proc-cell">
          {isPython(p) ? <Tag color="blue" className="py-tag">py</Tag> : null}
          <ProcessName name={p.name} cmdline={p.cmdline} />
        </Flex>
      ),
    },
  ];
  if (variant === 'all') {
    cols.push(
      { title: t('proc.cpu'), dataIndex: 'cpu_percent', key: 'cpu', width: 80, align: 'right', render: (v: number) => formatPercent(v) },
      { title: t('proc.mem'), dataIndex: 'memory_percent', key: 'mem', width: 80, align: 'right', render: (v: number) => formatPercent(v) },
      {
        title: t('proc.gpu'),
        key: 'gpu',
        width: 64,
        render: (_: unknown, p) => (p.gpu_ids && p.gpu_ids.length ? p.gpu_ids.join(',') : p.gpu_id ?? '–'),
      },
    );
  }
  if (withSM) {
    cols.push({
      title: <Tooltip title={t('proc.smHint')}>{t('proc.sm')}</Tooltip>,
      dataIndex: 'sm_utilization',
      key: 'sm',
      width: 64,
      align: 'right',
      render: (v?: number | null) => (v == null ? '–' : `${v}%`),
    });
  }
  cols.push(
    {
      title: t('proc.gpuMemory'),
      dataIndex: 'gpu_memory_usage',
      key: 'gpumem',
      width: 92,
      align: 'right',
      render: (v: number, p) => (p.is_gpu_process || v ? formatMiB(v) : '–'),
    },
    {
      title: t('proc.started'),
      dataIndex: 'create_time',
      key: 'started',
      width: 100,
      render: (v: number) => <Tooltip title={formatDateTime(v)}>{formatStartTime(v)}</Tooltip>,
    },
    { title: t('proc.user'), dataIndex: 'username', key: 'user', width: 90, ellipsis: true },
  );
  if (withPlace) {
    cols.push({
      title: t('proc.place'),
      key: 'place',
      width: 140,
      ellipsis: true,
      render: (_: unknown, p) => {
        const place = processPlace(p, containerName);
        return place ? <Tooltip title={place}>{place}</Tooltip> : '–';
      },
    });
  }
  if (kill) {
    cols.push({
      key: 'kill',
      width: 44,
      render: (_: unknown, p) => (
        <Tooltip title={kill.allowed ? t('kill.one') : kill.reason}>
          <Button
            size="small"
            type="text"
            danger
            aria-label={`${t('kill.one')} ${p.pid}`}
            icon={<StopOutlined />}
            disabled={!kill.allowed}
            onClick={() => kill.onKill([p.pid ?? 0])}
          />
        </Tooltip>
      ),
    });
  }
  return cols;
}

export const ProcessTable = memo(function ProcessTable({
  processes,
  variant,
  defaultFilter = 'all',
  pythonOnly = false,
  myUser,
  query,
  kill,
  containerName,
  size = 'small',
}: ProcessTableProps) {
  const { t } = useI18n();
  const [chosen, setMode] = useState<ProcessFilterMode>(defaultFilter);
  // A GPU's table has no filter of its own: every process, unless the setting says Python only.
  const mode: ProcessFilterMode = variant === 'gpu' ? (pythonOnly ? 'python' : 'all') : chosen;
  const [selected, setSelected] = useState<number[]>([]);
  const rows = useMemo(
    () =>
      sortProcesses(
        filterProcesses(processes, {
          pythonOnly: mode === 'python',
          user: mode === 'mine' ? myUser || '\u0000' : undefined,
          query,
        }),
      ),
    [processes, mode, myUser, query],
  );
  const withPlace = useMemo(() => processes.some((p) => p.container_id || p.session?.name), [processes]);
  const withSM = variant === 'gpu' && processes.some((p) => p.sm_utilization != null);
  const cols = useMemo(() => columns(t, variant, kill, containerName, withPlace, withSM), [t, variant, kill, containerName, withPlace, withSM]);
  // Fixed columns plus room for the name: narrower tables scroll sideways.
  const minWidth = (variant === 'all' ? 860 : 600) + (withPlace ? 140 : 0) + (withSM ? 64 : 0);
  const live = new Set(processes.map((p) => p.pid));
  const selectedLive = selected.filter((pid) => live.has(pid));
  const options = [
    { label: t('proc.pythonOnly'), value: 'python' },
    { label: t('proc.all'), value: 'all' },
    ...(myUser ? [{ label: `${t('proc.mine')} (${myUser})`, value: 'mine' }] : []),
  ];
  return (
    <div className="process-table">
      <Flex justify="space-between" align="center" gap={8} wrap className="process-table-bar">
        {variant === 'all' ? <Segmented size="small" options={options} value={mode} onChange={(v) => setMode(v as ProcessFilterMode)} /> : null}
        <Typography.Text type="secondary" className="process-count">
          {variant === 'gpu' && rows.length === processes.length
            ? t('proc.total', { n: processes.length })
            : variant === 'gpu'
              ? t('proc.hiddenNotPython', { shown: rows.length, hidden: processes.length - rows.length })
              : t('proc.count', { shown: rows.length, total: processes.length })}
        </Typography.Text>
        {kill && selectedLive.length > 0 ? (
          <Tooltip title={kill.allowed ? undefined : kill.reason}>
            <Button size="small" danger icon={<StopOutlined />} disabled={!kill.allowed} onClick={() => kill.onKill(selectedLive)}>
              {t('kill.selected', { n: selectedLive.length })}
            </Button>
          </Tooltip>
        ) : null}
      </Flex>
      {rows.length === 0 ? (
        <Typography.Text type="secondary" className="no-procs">
          {mode === 'python' && processes.length ? t(variant === 'gpu' ? 'proc.nonePythonSetting' : 'proc.nonePython') : t('proc.none')}
        </Typography.Text>
      ) : (
        <Table<Process>
          size={size}
          rowKey="pid"
          columns={cols}
          dataSource={rows}
          pagination={variant === 'all' && rows.length > 50 ? { pageSize: 50, size: 'small', showSizeChanger: false } : false}
          tableLayout="fixed"
          scroll={{ x: minWidth }}
          rowClassName={(p) => (myUser && p.username === myUser ? 'row-mine' : '')}
          rowSelection={
            kill?.allowed
              ? { selectedRowKeys: selectedLive, onChange: (keys) => setSelected(keys as number[]), columnWidth: 32 }
              : undefined
          }
        />
      )}
    </div>
  );
});
