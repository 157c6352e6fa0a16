import { Button, Flex, Input, Pagination, Skeleton, Switch, Typography } from 'antd';
import { lazy, memo, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMachine, useMachines } from '../api/hooks';
import { MachineCard } from '../components/MachineCard';
import { useCoarseNow } from '../components/useNow';
import type { MachineSummary } from '../api/types';
import { machineState, sortMachines, summaryFor, type MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';

// A machine's details (GPU cards, process tables, tabs) load on demand: a
// large fleet's first paint shows collapsed cards only, and needs none of it.
const loadDetail = () => import('./machine/MachineDetail');
const MachineDetail = lazy(() => loadDetail().then((m) => ({ default: m.MachineDetail })));

const CARDS_KEY = 'gpumon.cards';
/** Fleets up to this size open every card; larger ones start collapsed. */
const EXPAND_UP_TO = 20;

interface CardPrefs {
  /** null: by fleet size. */
  all: boolean | null;
  /** Per-machine choices that differ from the default. */
  open: Record<string, boolean>;
}

function loadPrefs(): CardPrefs {
  try {
    const v = JSON.parse(localStorage.getItem(CARDS_KEY) ?? '{}') as Partial<CardPrefs>;
    return { all: typeof v.all === 'boolean' ? v.all : null, open: v.open && typeof v.open === 'object' ? v.open : {} };
  } catch {
    return { all: null, open: {} };
  }
}

function savePrefs(p: CardPrefs): CardPrefs {
  try {
    localStorage.setItem(CARDS_KEY, JSON.stringify(p));
  } catch {
    // ignore
  }
  return p;
}

/**
 * One card; re-renders only when its machine, state or expansion changes. An
 * open card's header shows the summary that came with its GPUs' report (one
 * sample), not the list's, which may be of another.
 */
const FleetRow = memo(function FleetRow(props: { m: MachineSummary; state: MachineState; expanded: boolean; onToggle: (key: string) => void }) {
  const { m, expanded } = props;
  const detail = useMachine(m.key, expanded);
  const shown = (expanded && summaryFor(m, detail.data)) || m;
  return (
    <MachineCard {...props} m={shown}>
      {expanded ? (
        <Suspense fallback={<Skeleton active paragraph={{ rows: 3 }} />}>
          <MachineDetail machineKey={m.key ?? ''} summary={m} />
        </Suspense>
      ) : null}
    </MachineCard>
  );
});

/** List view: every machine as a card, paginated so a thousand machines stay smooth. */
export default function FleetPage() {
  const { t } = useI18n();
  const q = useMachines();
  const now = useCoarseNow(5000);
  const [params, setParams] = useSearchParams();
  const filter = params.get('q') ?? '';
  const hideOffline = params.get('offline') === 'hide';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = Math.max(5, Number(params.get('size')) || 20);
  const [prefs, setPrefs] = useState<CardPrefs>(loadPrefs);
  // Fetch the details' code once the page is up, so expanding is instant.
  useEffect(() => {
    const t = setTimeout(() => loadDetail().catch(() => {}), 500); // a failure shows when a card opens
    return () => clearTimeout(t);
  }, []);
  const total = q.data?.machines?.length ?? 0;
  const defaultOpen = prefs.all ?? total <= EXPAND_UP_TO;
  const isOpen = (key: string) => prefs.open[key] ?? defaultOpen;

  const setParam = useCallback(
    (patch: Record<string, string | null>) =>
      setParams(
        (p) => {
          const n = new URLSearchParams(p);
          for (const [k, v] of Object.entries(patch)) {
            if (v == null || v === '') n.delete(k);
            else n.set(k, v);
          }
          return n;
        },
        { replace: true },
      ),
    [setParams],
  );

  const machines = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return sortMachines(q.data?.machines ?? []).filter(
      (m) =>
        (!hideOffline || m.online) &&
        (!f || (m.key ?? '').toLowerCase().includes(f) || (m.hostname ?? '').toLowerCase().includes(f) || (m.ip_address ?? '').includes(f)),
    );
  }, [q.data, filter, hideOffline]);

  const toggle = useCallback(
    (key: string) =>
      setPrefs((p) => {
        const now = p.open[key] ?? p.all ?? total <= EXPAND_UP_TO;
        return savePrefs({ ...p, open: { ...p.open, [key]: !now } });
      }),
    [total],
  );
  const pageItems = machines.slice((page - 1) * pageSize, page * pageSize);

  return (
    <div className="fleet-page">
      <Flex gap={8} wrap align="center" className="page-toolbar">
        <Input.Search
          allowClear
          placeholder={t('fleet.filter')}
          aria-label={t('fleet.filter')}
          defaultValue={filter}
          onChange={(e) => setParam({ q: e.target.value, page: null })}
          style={{ maxWidth: 280 }}
        />
        <Flex gap={6} align="center">
          <Switch size="small" checked={hideOffline} onChange={(v) => setParam({ offline: v ? 'hide' : null, page: null })} id="hide-offline" />
          <label htmlFor="hide-offline">{t('fleet.hideOffline')}</label>
        </Flex>
        <Button size="small" onClick={() => setPrefs(savePrefs({ all: true, open: {} }))}>
          {t('fleet.expandAll')}
        </Button>
        <Button size="small" onClick={() => setPrefs(savePrefs({ all: false, open: {} }))}>
          {t('fleet.collapseAll')}
        </Button>
      </Flex>
      {machines.length === 0 ? (
        <Typography.Paragraph type="secondary" className="no-match">
          {t('fleet.noMatch')}
        </Typography.Paragraph>
      ) : null}
      <div className="machine-list">
        {pageItems.map((m) => {
          const key = m.key ?? '';
          const expanded = isOpen(key);
          return <FleetRow key={key} m={m} state={machineState(m, now)} expanded={expanded} onToggle={toggle} />;
        })}
      </div>
      {machines.length > pageSize || page > 1 ? (
        <Pagination
          className="fleet-pagination"
          align="center"
          current={page}
          pageSize={pageSize}
          total={machines.length}
          showSizeChanger
          pageSizeOptions={[10, 20, 50, 100]}
          onChange={(p, s) => {
            setParam({ page: p > 1 ? String(p) : null, size: s !== 20 ? String(s) : null });
            window.scrollTo({ top: 0 });
          }}
        />
      ) : null}
    </div>
  );
}
