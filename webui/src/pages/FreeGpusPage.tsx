import { Flex, InputNumber, Progress, Slider, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { useFreeGpus, type FreeGpuParams } from '../api/hooks';
import type { FreeGpu } from '../api/types';
import { hostColor, LEVEL_TAG_COLOR, temperatureLevel } from '../lib/colors';
import { formatMiB, percentOf } from '../lib/format';
import { usePageTitle } from '../components/usePageTitle';
import { useUrlState } from '../components/useUrlState';
import { useI18n, type T } from '../state/i18n';

function columns(t: T): ColumnsType<FreeGpu> {
  return [
    {
      title: t('free.machine'),
      dataIndex: 'machine',
      key: 'machine',
      sorter: (a, b) => (a.machine ?? '').localeCompare(b.machine ?? ''),
      render: (m: string, g) => (
        <Flex gap={6} align="center" className="host-cell">
          <span className="host-mark" style={{ ['--host-color' as string]: hostColor(g.hostname || m) }} aria-hidden />
          <Link to={`/window/${encodeURIComponent(m)}`} className="host-name" title={g.hostname || m}>
            {g.hostname || m}
          </Link>
          {/* A phone has no GPU column: the index goes with the machine. */}
          <span className="only-narrow">· GPU {g.index}</span>
          {!g.online ? <Tag>{t('machine.offline')}</Tag> : null}
        </Flex>
      ),
    },
    { title: t('free.gpu'), key: 'gpu', width: 220, responsive: ['md'], ellipsis: true, render: (_: unknown, g) => `${g.index} · ${g.name ?? ''}` },
    {
      title: <Tooltip title={t('free.scoreHint')}>{t('free.score')}</Tooltip>,
      dataIndex: 'score',
      key: 'score',
      width: 120,
      responsive: ['sm'],
      sorter: (a, b) => (a.score ?? 0) - (b.score ?? 0),
      render: (v?: number) => (
        <Progress size="small" aria-label={t('free.score')} percent={Math.round((v ?? 0) * 100)} status="normal" format={(p) => `${p}%`} strokeColor="#52c41a" className="free-score" />
      ),
    },
    {
      title: t('free.free'),
      key: 'free',
      width: 170,
      sorter: (a, b) => (a.memory_free ?? 0) - (b.memory_free ?? 0),
      render: (_: unknown, g) => (
        <Flex vertical gap={0}>
          <Typography.Text strong>
            {formatMiB(g.memory_free)}
            <span className="only-wide"> / {formatMiB(g.memory_total)}</span>
          </Typography.Text>
          <Progress size="small" aria-label={t('free.free')} showInfo={false} percent={percentOf(g.memory_free, g.memory_total)} strokeColor="#52c41a" />
        </Flex>
      ),
    },
    {
      title: t('free.util'),
      dataIndex: 'utilization',
      key: 'util',
      width: 64,
      align: 'right',
      sorter: (a, b) => (a.utilization ?? 0) - (b.utilization ?? 0),
      render: (v?: number | null) => (v == null ? '–' : `${v}%`),
    },
    {
      title: t('free.temp'),
      dataIndex: 'temperature',
      key: 'temp',
      width: 72,
      render: (v?: number | null) => <Tag color={LEVEL_TAG_COLOR[temperatureLevel(v)]}>{v == null ? '–' : `${v}°C`}</Tag>,
    },
    {
      title: t('free.procs'),
      key: 'procs',
      width: 110,
      responsive: ['sm'],
      align: 'right',
      render: (_: unknown, g) => {
        const all = g.process_count ?? 0;
        const compute = g.compute_process_count ?? 0;
        if (!all) return '0';
        return compute === all ? String(all) : t('free.procsGraphics', { n: all, graphics: all - compute });
      },
    },
  ];
}

const pct = (v: string | null) => (v == null || v === '' || !Number.isFinite(Number(v)) ? undefined : Math.min(100, Math.max(0, Math.round(Number(v)))));

/**
 * GPUs free now across the fleet. What counts as free is the hub's one
 * definition (the same as gpumon free); the page only passes the thresholds
 * a user changed, shows the ones the hub applied, and keeps the hub's order
 * (most free first, relative to each card's size).
 */
export default function FreeGpusPage() {
  const { t } = useI18n();
  const [params, setUrl] = useUrlState();
  usePageTitle(t('nav.free'));
  const asked: FreeGpuParams = {
    min_free_memory: Math.round(Math.max(0, Number(params.get('min')) || 0) * 1024) || undefined,
    max_utilization: pct(params.get('util')),
    min_free_percent: pct(params.get('minpct')),
    shared: params.get('shared') === '1' || undefined,
    idle: params.get('idle') === '1' || undefined,
    include_offline: params.get('offline') === '1' || undefined,
  };
  const q = useFreeGpus(asked);
  const c = q.data?.criteria;
  const set = (k: string, v: string | null) => setUrl({ [k]: v });
  const cols = useMemo(() => columns(t), [t]);
  const maxUtil = asked.max_utilization ?? c?.max_utilization ?? undefined;
  const minPct = asked.min_free_percent ?? c?.min_free_percent ?? undefined;
  return (
    <div className="free-page">
      <Typography.Title level={4}>{t('free.title')}</Typography.Title>
      {c ? (
        <Typography.Paragraph type="secondary" className="free-definition" data-testid="free-definition">
          {t(c.idle ? 'free.definitionIdle' : c.shared ? 'free.definitionShared' : 'free.definition', {
            util: c.max_utilization ?? 0,
            pct: c.min_free_percent ?? 0,
          })}
        </Typography.Paragraph>
      ) : null}
      <Flex gap={16} wrap align="center" className="page-toolbar">
        <Flex gap={6} align="center" style={{ minWidth: 280 }}>
          <span id="max-util-label">{t('free.maxUtil')}</span>
          <Slider
            min={0}
            max={100}
            step={5}
            value={maxUtil}
            onChange={(v) => set('util', String(v))}
            style={{ flex: 1 }}
            tooltip={{ formatter: (v) => `${v}%` }}
            ariaLabelledByForHandle="max-util-label"
          />
          <Typography.Text strong className="slider-value" data-testid="max-util-value">
            {maxUtil == null ? '–' : `${maxUtil}%`}
          </Typography.Text>
        </Flex>
        <Flex gap={6} align="center">
          <label htmlFor="min-free-pct">{t('free.minFreePercent')}</label>
          <InputNumber id="min-free-pct" min={0} max={100} step={5} controls={false} value={minPct} onChange={(v) => set('minpct', v == null ? null : String(v))} style={{ width: 80 }} />
        </Flex>
        <Flex gap={6} align="center">
          <label htmlFor="min-free">{t('free.minFree')}</label>
          <InputNumber id="min-free" min={0} max={1024} step={1} controls={false} value={(asked.min_free_memory ?? 0) / 1024} onChange={(v) => set('min', v ? String(v) : null)} style={{ width: 90 }} />
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="shared" checked={!!asked.shared} onChange={(v) => set('shared', v ? '1' : null)} />
          <label htmlFor="shared">{t('free.shared')}</label>
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="idle-only" checked={!!asked.idle} onChange={(v) => set('idle', v ? '1' : null)} />
          <label htmlFor="idle-only">{t('free.idle')}</label>
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="incl-offline" checked={!!asked.include_offline} onChange={(v) => set('offline', v ? '1' : null)} />
          <label htmlFor="incl-offline">{t('free.includeOffline')}</label>
        </Flex>
        <Typography.Text type="secondary" data-testid="free-count">
          {t('free.count', { n: q.data?.gpus?.length ?? 0 })}
        </Typography.Text>
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
      />
    </div>
  );
}
