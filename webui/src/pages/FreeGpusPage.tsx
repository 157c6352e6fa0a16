import { Flex, InputNumber, Progress, Slider, Switch, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useFreeGpus } from '../api/hooks';
import type { FreeGpu } from '../api/types';
import { hostColor, LEVEL_TAG_COLOR, temperatureLevel } from '../lib/colors';
import { formatMiB, percentOf } from '../lib/format';
import { useI18n, type T } from '../state/i18n';

function columns(t: T): ColumnsType<FreeGpu> {
  return [
    {
      title: t('free.machine'),
      dataIndex: 'machine',
      key: 'machine',
      sorter: (a, b) => (a.machine ?? '').localeCompare(b.machine ?? ''),
      render: (m: string, g) => (
        <Flex gap={6} align="center">
          <span className="host-dot" style={{ ['--host-color' as string]: hostColor(g.hostname || m) }} aria-hidden />
          <Link to={`/window/${encodeURIComponent(m)}`}>{g.hostname || m}</Link>
          {!g.online ? <Tag>{t('machine.offline')}</Tag> : null}
        </Flex>
      ),
    },
    { title: t('free.gpu'), key: 'gpu', width: 220, render: (_: unknown, g) => `${g.index} · ${g.name ?? ''}` },
    {
      title: t('free.free'),
      key: 'free',
      width: 260,
      defaultSortOrder: 'descend',
      sorter: (a, b) => (a.memory_free ?? 0) - (b.memory_free ?? 0),
      render: (_: unknown, g) => (
        <Flex vertical gap={0}>
          <Typography.Text strong>
            {formatMiB(g.memory_free)} / {formatMiB(g.memory_total)}
          </Typography.Text>
          <Progress size="small" showInfo={false} percent={percentOf(g.memory_free, g.memory_total)} strokeColor="#52c41a" />
        </Flex>
      ),
    },
    {
      title: t('free.util'),
      dataIndex: 'utilization',
      key: 'util',
      width: 80,
      align: 'right',
      sorter: (a, b) => (a.utilization ?? 0) - (b.utilization ?? 0),
      render: (v?: number | null) => (v == null ? '–' : `${v}%`),
    },
    {
      title: t('free.temp'),
      dataIndex: 'temperature',
      key: 'temp',
      width: 80,
      render: (v?: number | null) => <Tag color={LEVEL_TAG_COLOR[temperatureLevel(v)]}>{v == null ? '–' : `${v}°C`}</Tag>,
    },
    { title: t('free.procs'), dataIndex: 'process_count', key: 'procs', width: 90, align: 'right' },
  ];
}

/** GPUs free now across the fleet, most free memory first. */
export default function FreeGpusPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const minGiB = Math.max(0, Number(params.get('min')) || 0);
  const idle = params.get('idle') === '1';
  const maxUtil = params.has('util') ? Math.min(100, Math.max(0, Number(params.get('util')))) : 100;
  const includeOffline = params.get('offline') === '1';
  const q = useFreeGpus({
    min_free_memory: Math.round(minGiB * 1024),
    idle,
    max_utilization: maxUtil < 100 ? maxUtil : undefined,
    include_offline: includeOffline,
  });
  const set = (k: string, v: string | null) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (v == null) n.delete(k);
        else n.set(k, v);
        return n;
      },
      { replace: true },
    );
  const cols = useMemo(() => columns(t), [t]);
  return (
    <div className="free-page">
      <Typography.Title level={4}>{t('free.title')}</Typography.Title>
      <Flex gap={16} wrap align="center" className="page-toolbar">
        <Flex gap={6} align="center">
          <label htmlFor="min-free">{t('free.minFree')}</label>
          <InputNumber id="min-free" min={0} max={1024} step={1} value={minGiB} onChange={(v) => set('min', v ? String(v) : null)} style={{ width: 90 }} />
        </Flex>
        <Flex gap={6} align="center" style={{ minWidth: 260 }}>
          <span>{t('free.maxUtil')}</span>
          <Slider min={0} max={100} step={5} value={maxUtil} onChange={(v) => set('util', v < 100 ? String(v) : null)} style={{ flex: 1 }} tooltip={{ formatter: (v) => `${v}%` }} />
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="idle-only" checked={idle} onChange={(v) => set('idle', v ? '1' : null)} />
          <label htmlFor="idle-only">{t('free.idle')}</label>
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="incl-offline" checked={includeOffline} onChange={(v) => set('offline', v ? '1' : null)} />
          <label htmlFor="incl-offline">{t('free.includeOffline')}</label>
        </Flex>
        <Typography.Text type="secondary">{t('free.count', { n: q.data?.gpus?.length ?? 0 })}</Typography.Text>
      </Flex>
      <Table<FreeGpu>
        size="small"
        rowKey={(g) => `${g.machine}/${g.index}/${g.uuid}`}
        columns={cols}
        dataSource={q.data?.gpus ?? []}
        loading={q.isLoading}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: q.error ? (q.error as Error).message : t('free.none') }}
        rowClassName={(g) => (g.online ? '' : 'row-offline')}
        scroll={{ x: 800 }}
      />
    </div>
  );
}
