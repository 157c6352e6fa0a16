import { Button, Flex, Input, Select, Skeleton, Switch, Typography } from 'antd';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { lazy, memo, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useMachine, useMachines } from '../api/hooks';
import { MachineCard } from '../components/MachineCard';
import { useCoarseNow } from '../components/useNow';
import { usePageTitle } from '../components/usePageTitle';
import { useScrollMargin } from '../components/useScrollMargin';
import { useUrlState } from '../components/useUrlState';
import type { MachineSummary } from '../api/types';
import { MACHINE_SORTS, machineState, sortMachines, summaryFor, type MachineSort, type MachineState } from '../lib/machine';
import type { MessageKey } from '../state/messages';
import { useI18n } from '../state/i18n';

// A machine's details (GPU cards, process tables, tabs) load on demand: a
// large fleet's first paint shows collapsed cards only, and needs none of it.
const loadDetail = () => import('./machine/MachineDetail');
const MachineDetail = lazy(() => loadDetail().then((m) => ({ default: m.MachineDetail })));

const CARDS_KEY = 'gpumon.cards';
/** Fleets up to this size open every card; larger ones start collapsed. */
const EXPAND_UP_TO = 20;
/** Heights a card is first given before it is measured, px (with the gap below it). */
const COLLAPSED_HEIGHT = 58;
const EXPANDED_HEIGHT = 620;

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
 * sample), not the list's, which may be of another. Only cards on screen
 * exist, so only they ask for their machine's details; one that comes into
 * view while the list scrolls draws its details once the scrolling stops
 * (an open card is a few hundred elements: drawing one per frame would
 * stall the scroll).
 */
const FleetRow = memo(function FleetRow(props: { m: MachineSummary; state: MachineState; expanded: boolean; onToggle: (key: string) => void; scrolling: boolean }) {
  const { m, expanded, scrolling, ...rest } = props;
  const [ready, setReady] = useState(!scrolling);
  if (!ready && !scrolling) setReady(true);
  const detail = useMachine(m.key, expanded && ready);
  const shown = (expanded && summaryFor(m, detail.data)) || m;
  return (
    <MachineCard {...rest} m={shown} expanded={expanded}>
      {expanded && ready ? (
        <Suspense fallback={<Skeleton active paragraph={{ rows: 3 }} />}>
          <MachineDetail machineKey={m.key ?? ''} summary={m} />
        </Suspense>
      ) : expanded ? (
        <div className="detail-pending" style={{ height: EXPANDED_HEIGHT - 60 }} />
      ) : null}
    </MachineCard>
  );
});

const SORT_WORD: Record<MachineSort, MessageKey> = {
  name: 'fleet.sortName',
  free: 'fleet.sortFree',
  busy: 'fleet.sortBusy',
  util: 'fleet.sortUtil',
  memory: 'fleet.sortMemory',
  temp: 'fleet.sortTemp',
  cpu: 'fleet.sortCpu',
};

/**
 * List view: every machine as a card on one page, in the order chosen. The
 * list is virtual: only the cards in and near the window are drawn, so a
 * thousand machines scroll as smoothly as ten.
 */
export default function FleetPage() {
  const { t } = useI18n();
  usePageTitle(t('nav.list'));
  const q = useMachines();
  const now = useCoarseNow(5000);
  const [params, setParam] = useUrlState();
  const filter = params.get('q') ?? '';
  const hideOffline = params.get('offline') === 'hide';
  const sort = (MACHINE_SORTS as readonly string[]).includes(params.get('sort') ?? '') ? (params.get('sort') as MachineSort) : 'name';
  const [prefs, setPrefs] = useState<CardPrefs>(loadPrefs);
  // Fetch the details' code once the page is up, so expanding is instant.
  useEffect(() => {
    const t = setTimeout(() => loadDetail().catch(() => {}), 500); // a failure shows when a card opens
    return () => clearTimeout(t);
  }, []);
  const total = q.data?.machines?.length ?? 0;
  const defaultOpen = prefs.all ?? total <= EXPAND_UP_TO;
  const isOpen = useCallback((key: string) => prefs.open[key] ?? defaultOpen, [prefs, defaultOpen]);

  const machines = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return sortMachines(q.data?.machines ?? [], sort).filter(
      (m) =>
        (!hideOffline || m.online) &&
        (!f || (m.key ?? '').toLowerCase().includes(f) || (m.hostname ?? '').toLowerCase().includes(f) || (m.ip_address ?? '').includes(f)),
    );
  }, [q.data, filter, hideOffline, sort]);

  const toggle = useCallback(
    (key: string) =>
      setPrefs((p) => {
        const now = p.open[key] ?? p.all ?? total <= EXPAND_UP_TO;
        return savePrefs({ ...p, open: { ...p.open, [key]: !now } });
      }),
    [total],
  );

  const { ref, margin } = useScrollMargin();
  const v = useWindowVirtualizer({
    count: machines.length,
    estimateSize: (i) => (isOpen(machines[i]?.key ?? '') ? EXPANDED_HEIGHT : COLLAPSED_HEIGHT),
    getItemKey: (i) => machines[i]?.key ?? i,
    overscan: 4,
    scrollMargin: margin,
    useFlushSync: false,
  });
  // Sizes measured before a card opened or closed are wrong now: measure again.
  useEffect(() => v.measure(), [v, prefs, defaultOpen]);

  return (
    <div className="fleet-page">
      <Flex gap={8} wrap align="center" className="page-toolbar">
        <Input.Search
          allowClear
          placeholder={t('fleet.filter')}
          aria-label={t('fleet.filter')}
          defaultValue={filter}
          onChange={(e) => setParam({ q: e.target.value })}
          style={{ maxWidth: 280 }}
        />
        <Flex gap={6} align="center">
          <span id="fleet-sort-label">{t('fleet.sort')}</span>
          <Select
            aria-labelledby="fleet-sort-label"
            value={sort}
            onChange={(v: MachineSort) => setParam({ sort: v === 'name' ? null : v })}
            options={MACHINE_SORTS.map((s) => ({ value: s, label: t(SORT_WORD[s]) }))}
            style={{ minWidth: 170 }}
            data-testid="fleet-sort"
          />
        </Flex>
        <Flex gap={6} align="center">
          <Switch size="small" checked={hideOffline} onChange={(v) => setParam({ offline: v ? 'hide' : null })} id="hide-offline" />
          <label htmlFor="hide-offline">{t('fleet.hideOffline')}</label>
        </Flex>
        <Button size="small" onClick={() => setPrefs(savePrefs({ all: true, open: {} }))}>
          {t('fleet.expandAll')}
        </Button>
        <Button size="small" onClick={() => setPrefs(savePrefs({ all: false, open: {} }))}>
          {t('fleet.collapseAll')}
        </Button>
        <Typography.Text type="secondary" data-testid="fleet-count">
          {t('overview.machines', { n: machines.length })}
        </Typography.Text>
      </Flex>
      {machines.length === 0 ? (
        <Typography.Paragraph type="secondary" className="no-match">
          {t('fleet.noMatch')}
        </Typography.Paragraph>
      ) : null}
      <div className="machine-list" ref={ref} style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => {
          const m = machines[item.index];
          const key = m.key ?? '';
          return (
            <div key={item.key} data-index={item.index} ref={v.measureElement} className="machine-slot" style={{ transform: `translateY(${item.start - margin}px)` }}>
              <FleetRow m={m} state={machineState(m, now)} expanded={isOpen(key)} onToggle={toggle} scrolling={v.isScrolling} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
