import { Button, Checkbox, Flex, Segmented, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { StopOutlined } from '@ant-design/icons';
import { memo, useMemo, useState } from 'react';
import type { Process } from '../api/types';
import { formatDateTime, formatMiB, formatPercent, formatStartTime } from '../lib/format';
import { filterProcesses, isPython, processPlace, sortProcesses } from '../lib/processes';
import type { T } from '../state/i18n';
import { useI18n } from '../state/i18n';
import { Flags } from './Flags';
import { ProcessName } from './ProcessName';

export type ProcessFilterMode = 'python' | 'all' | 'mine';

/** What the kill confirmation shows of a process: who runs what. */
export type KillTarget = Pick<Process, 'pid' | 'username' | 'name' | 'cmdline'>;

export interface KillPermission {
  allowed: boolean;
  /** Why not, when not allowed. */
  reason?: string;
  onKill: (procs: KillTarget[]) => void;
}

export interface ProcessTableProps {
  processes: readonly Process[];
  /**
   * "gpu": a GPU's processes, every one unless pythonOnly (a setting), Python
   * jobs first, in columns that fit a GPU card; "all": every process of a
   * machine (adds CPU/memory/GPU columns and a Python / All / Mine filter).
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

type Place = ProcessTableProps['containerName'];

const nameColumn = (t: T): ColumnsType<Process>[number] => ({
  title: t('proc.name'),
  key: 'name',
  render: (_: unknown, p) => (
    <Flex gap={6} align="start" className="proc-cell">
      {isPython(p) ? <Tag color="blue" className="py-tag">py</Tag> : null}
      <ProcessName name={p.name} cmdline={p.cmdline} />
    </Flex>
  ),
});

function KillButton({ t, kill, p }: { t: T; kill: KillPermission; p: Process }) {
  return (
    <Tooltip title={kill.allowed ? t('kill.one') : <Flags text={kill.reason ?? ''} />}>
      <Button size="small" type="text" danger aria-label={`${t('kill.one')} ${p.pid}`} icon={<StopOutlined />} disabled={!kill.allowed} onClick={() => kill.onKill([p])} />
    </Tooltip>
  );
}

function killColumn(t: T, kill: KillPermission): ColumnsType<Process>[number] {
  return { key: 'kill', width: 40, fixed: 'right', render: (_: unknown, p) => <KillButton t={t} kill={kill} p={p} /> };
}

/**
 * A GPU's processes as a list that fits a card of 360 px: each process's
 * whole command line (two lines, all of it on hover), and under it the PID,
 * the user, the session or container and the start time; its GPU memory, SM
 * share and stop button on the right, always in view.
 */
function GpuProcessList({ rows, kill, containerName, myUser, selected, onSelect, t }: {
  rows: Process[];
  kill?: KillPermission;
  containerName: Place;
  myUser?: string;
  selected: number[];
  onSelect: (pid: number, on: boolean) => void;
  t: T;
}) {
  return (
    <ul className="gpu-procs">
      {rows.map((p) => {
        const place = processPlace(p, containerName);
        const pid = p.pid ?? 0;
        return (
          <li key={pid} className={`gpu-proc${myUser && p.username === myUser ? ' row-mine' : ''}`} data-pid={pid}>
            {kill?.allowed ? (
              <Checkbox aria-label={t('proc.select', { pid })} checked={selected.includes(pid)} onChange={(e) => onSelect(pid, e.target.checked)} />
            ) : null}
            <div className="gpu-proc-main">
              <div className="gpu-proc-cmd">
                {isPython(p) ? <Tag color="blue" className="py-tag">py</Tag> : null}
                <ProcessName name={p.name} cmdline={p.cmdline} />
              </div>
              <div className="gpu-proc-meta">
                <span className="gpu-proc-pid">{pid}</span>
                <strong className="gpu-proc-user" title={t('proc.user')}>
                  {p.username || '–'}
                </strong>
                {place ? <span title={t('proc.place')}>{place}</span> : null}
                <span title={formatDateTime(p.create_time)}>{formatStartTime(p.create_time)}</span>
              </div>
            </div>
            <div className="gpu-proc-figures">
              <span title={t('proc.gpuMemory')}>{p.is_gpu_process || p.gpu_memory_usage ? formatMiB(p.gpu_memory_usage) : '–'}</span>
              {p.sm_utilization != null ? (
                <span title={t('proc.smHint')}>
                  {t('proc.sm')} {p.sm_utilization}%
                </span>
              ) : null}
            </div>
            {kill ? <KillButton t={t} kill={kill} p={p} /> : null}
          </li>
        );
      })}
    </ul>
  );
}

/** A machine's process table: everything, CPU and memory included. */
function allColumns(t: T, kill: KillPermission | undefined, containerName: Place, withPlace: boolean): ColumnsType<Process> {
  const cols: ColumnsType<Process> = [
    { title: t('proc.pid'), dataIndex: 'pid', key: 'pid', width: 80, render: (pid: number) => <Typography.Text code>{pid}</Typography.Text> },
    nameColumn(t),
    { title: t('proc.cpu'), dataIndex: 'cpu_percent', key: 'cpu', width: 80, align: 'right', render: (v: number) => formatPercent(v) },
    { title: t('proc.mem'), dataIndex: 'memory_percent', key: 'mem', width: 80, align: 'right', render: (v: number) => formatPercent(v) },
    {
      title: t('proc.gpu'),
      key: 'gpu',
      width: 64,
      render: (_: unknown, p) => (p.gpu_ids && p.gpu_ids.length ? p.gpu_ids.join(',') : p.gpu_id ?? '–'),
    },
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
    { title: t('proc.user'), dataIndex: 'username', key: 'user', width: 96, ellipsis: { showTitle: true } },
  ];
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
  if (kill) cols.push(killColumn(t, kill));
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
  const cols = useMemo(() => allColumns(t, kill, containerName, withPlace), [t, kill, containerName, withPlace]);
  const live = new Set(processes.map((p) => p.pid));
  const selectedLive = selected.filter((pid) => live.has(pid));
  const options = [
    { label: t('proc.pythonOnly'), value: 'python' },
    { label: t('proc.all'), value: 'all' },
    ...(myUser ? [{ label: `${t('proc.mine')} (${myUser})`, value: 'mine' }] : []),
  ];
  return (
    <div className={`process-table process-table-${variant}`}>
      <Flex justify="space-between" align="center" gap={8} wrap className="process-table-bar">
        {variant === 'all' ? <Segmented size="small" aria-label={t('proc.filter')} options={options} value={mode} onChange={(v) => setMode(v as ProcessFilterMode)} /> : null}
        <Typography.Text type="secondary" className="process-count">
          {variant === 'gpu' && rows.length === processes.length
            ? t('proc.total', { n: processes.length })
            : variant === 'gpu'
              ? t('proc.hiddenNotPython', { shown: t('proc.python', { n: rows.length }), n: processes.length - rows.length })
              : t('proc.count', { shown: rows.length, n: processes.length })}
        </Typography.Text>
        {kill && selectedLive.length > 0 ? (
          <Tooltip title={kill.allowed ? undefined : <Flags text={kill.reason ?? ''} />}>
            <Button
              size="small"
              danger
              icon={<StopOutlined />}
              disabled={!kill.allowed}
              onClick={() => kill.onKill(rows.filter((p) => p.pid != null && selectedLive.includes(p.pid)))}
            >
              {t('kill.selected', { n: selectedLive.length })}
            </Button>
          </Tooltip>
        ) : null}
      </Flex>
      {rows.length === 0 ? (
        <Typography.Text type="secondary" className="no-procs">
          {mode === 'python' && processes.length ? t(variant === 'gpu' ? 'proc.nonePythonSetting' : 'proc.nonePython') : t('proc.none')}
        </Typography.Text>
      ) : variant === 'gpu' ? (
        <GpuProcessList
          rows={rows}
          kill={kill}
          containerName={containerName}
          myUser={myUser}
          selected={selectedLive}
          onSelect={(pid, on) => setSelected((s) => (on ? [...s, pid] : s.filter((x) => x !== pid)))}
          t={t}
        />
      ) : (
        <Table<Process>
          size={size}
          rowKey="pid"
          columns={cols}
          dataSource={rows}
          pagination={variant === 'all' && rows.length > 50 ? { pageSize: 50, size: 'small', showSizeChanger: false } : false}
          tableLayout="fixed"
          // Narrow screens scroll the machine's table sideways; the stop button stays in view.
          scroll={{ x: 860 + (withPlace ? 140 : 0) }}
          rowClassName={(p) => (myUser && p.username === myUser ? 'row-mine' : '')}
          rowSelection={
            kill?.allowed
              ? {
                  selectedRowKeys: selectedLive,
                  onChange: (keys) => setSelected(keys as number[]),
                  columnWidth: 32,
                  getTitleCheckboxProps: () => ({ 'aria-label': t('proc.selectAll') }),
                  getCheckboxProps: (p) => ({ 'aria-label': t('proc.select', { pid: p.pid ?? 0 }) }),
                }
              : undefined
          }
        />
      )}
    </div>
  );
});
