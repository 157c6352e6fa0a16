import { Alert, Flex, Input, Segmented, Select, Skeleton, Switch, Typography } from 'antd';
import { useCallback, useDeferredValue, useMemo } from 'react';
import { useNavigate } from 'react-router';
import { useGpus } from '../api/hooks';
import type { GpuRow } from '../api/types';
import { GpuTable, STATE_WORD } from '../components/GpuTable';
import { HeatMap } from '../components/HeatMap';
import { usePageTitle } from '../components/usePageTitle';
import { useUrlState } from '../components/useUrlState';
import { formatMiB } from '../lib/format';
import { filterGpus, FIRST_DIR, gpuState, heatColor, sortGpus, type GpuState, type HeatMetric, type SortDir, type SortKey } from '../lib/overview';
import { useI18n } from '../state/i18n';

const SORTS: SortKey[] = ['machine', 'state', 'util', 'memory', 'free', 'temp', 'power', 'user'];
const STATES: (GpuState | 'all')[] = ['all', 'free', 'busy', 'idle', 'error'];
const HEATS: HeatMetric[] = ['util', 'memory', 'temp'];

const pick = <T extends string>(v: string | null, allowed: readonly T[], fallback: T): T => (v && (allowed as readonly string[]).includes(v) ? (v as T) : fallback);

/**
 * The fleet at a glance: one heat-map cell and one table row per GPU, every
 * machine on one page, sortable by free memory, utilisation, temperature or
 * user. Its state (filter, order, colour) lives in the URL.
 */
export default function OverviewPage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [params, set] = useUrlState();
  const text = params.get('q') ?? '';
  const state = pick(params.get('state'), STATES, 'all');
  const sort = pick(params.get('sort'), SORTS, 'machine');
  const dir = pick(params.get('dir'), ['asc', 'desc'] as const, FIRST_DIR[sort]);
  const metric = pick(params.get('heat'), HEATS, 'util');
  const offline = params.get('offline') === '1';
  usePageTitle(t('nav.overview'));
  const q = useGpus(offline);
  const deferredText = useDeferredValue(text);
  const rows = useMemo(() => sortGpus(filterGpus(q.data?.gpus ?? [], deferredText, state), sort, dir), [q.data, deferredText, state, sort, dir]);
  const machines = useMemo(() => new Set(rows.map((g) => g.machine)).size, [rows]);
  const onSort = useCallback(
    (k: SortKey) => set({ sort: k === 'machine' ? null : k, dir: k === sort ? (dir === 'asc' ? 'desc' : 'asc') : null }),
    [set, sort, dir],
  );
  const metricWord = t(metric === 'util' ? 'gpu.utilization' : metric === 'memory' ? 'overview.memoryUsed' : 'gpu.temperature');
  const describe = useCallback(
    (g: GpuRow) =>
      [
        `${g.hostname || g.machine} · GPU ${g.index}`,
        t(STATE_WORD[gpuState(g)]),
        g.utilization == null ? null : `${g.utilization}%`,
        `${formatMiB(g.memory_used)} / ${formatMiB(g.memory_total)}`,
        g.temperature == null ? null : `${g.temperature}°C`,
        g.users?.length ? g.users.join(', ') : null,
      ]
        .filter(Boolean)
        .join(' · '),
    [t],
  );
  return (
    <div className="overview-page">
      <Typography.Title level={4}>{t('overview.title')}</Typography.Title>
      <Flex gap={12} wrap align="center" className="page-toolbar">
        <Input.Search
          allowClear
          placeholder={t('overview.filter')}
          aria-label={t('overview.filter')}
          defaultValue={text}
          onChange={(e) => set({ q: e.target.value })}
          style={{ maxWidth: 280 }}
        />
        <Segmented
          size="small"
          aria-label={t('overview.state')}
          value={state}
          onChange={(v) => set({ state: v === 'all' ? null : String(v) })}
          options={STATES.map((s) => ({ value: s, label: t(s === 'all' ? 'state.all' : STATE_WORD[s]) }))}
        />
        <Flex gap={6} align="center">
          <span id="heat-metric-label">{t('overview.colour')}</span>
          <Select
            size="small"
            aria-labelledby="heat-metric-label"
            value={metric}
            onChange={(v: HeatMetric) => set({ heat: v === 'util' ? null : v })}
            options={HEATS.map((m) => ({ value: m, label: t(m === 'util' ? 'gpu.utilization' : m === 'memory' ? 'overview.memoryUsed' : 'gpu.temperature') }))}
            style={{ minWidth: 130 }}
          />
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" id="overview-offline" checked={offline} onChange={(v) => set({ offline: v ? '1' : null })} />
          <label htmlFor="overview-offline">{t('free.includeOffline')}</label>
        </Flex>
        <Typography.Text type="secondary" data-testid="overview-count">
          {t('overview.count', { gpus: t('machine.gpus', { n: rows.length }), machines: t('overview.machines', { n: machines }) })}
        </Typography.Text>
      </Flex>
      {q.error && !q.data ? <Alert type="error" showIcon title={(q.error as Error).message} /> : null}
      {q.isLoading ? (
        <Skeleton active paragraph={{ rows: 8 }} />
      ) : rows.length === 0 ? (
        <Typography.Paragraph type="secondary">{t('overview.none')}</Typography.Paragraph>
      ) : (
        <>
          <HeatMap
            rows={rows}
            metric={metric}
            label={t('overview.heatLabel', { n: rows.length, metric: metricWord })}
            describe={describe}
            onPick={(g) => navigate(`/window/${encodeURIComponent(g.machine ?? '')}`)}
          />
          <Flex gap={8} align="center" wrap className="heat-legend">
            <Typography.Text type="secondary">{t('overview.heatHint')}</Typography.Text>
            <span className="heat-scale" aria-hidden style={{ background: `linear-gradient(90deg, ${[0, 0.25, 0.5, 0.75, 1].map(heatColor).join(', ')})` }} />
            <Typography.Text type="secondary">
              {metric === 'temp' ? '30°C – 90°C' : '0% – 100%'} {metricWord}
            </Typography.Text>
          </Flex>
          <GpuTable rows={rows} sort={sort} dir={dir as SortDir} onSort={onSort} label={t('overview.title')} />
        </>
      )}
    </div>
  );
}
