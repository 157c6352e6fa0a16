import { Button, Flex, Input, Pagination, Switch, Typography } from 'antd';
import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMachines } from '../api/hooks';
import { MachineCard } from '../components/MachineCard';
import { useCoarseNow } from '../components/useNow';
import { machineState, sortMachines } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { MachineDetail } from './machine/MachineDetail';

const COLLAPSED_KEY = 'gpumon.collapsed';

function loadCollapsed(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(COLLAPSED_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

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
  const [collapsed, setCollapsed] = useState<Set<string>>(loadCollapsed);

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

  const persist = (s: Set<string>) => {
    try {
      localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...s]));
    } catch {
      // ignore
    }
    return s;
  };
  const toggle = useCallback((key: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return persist(next);
    });
  }, []);
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
        <Button size="small" onClick={() => setCollapsed(persist(new Set()))}>
          {t('fleet.expandAll')}
        </Button>
        <Button size="small" onClick={() => setCollapsed(persist(new Set((q.data?.machines ?? []).map((m) => m.key ?? ''))))}>
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
          const expanded = !collapsed.has(key);
          return (
            <MachineCard key={key} m={m} state={machineState(m, now)} expanded={expanded} onToggle={toggle}>
              {expanded ? <MachineDetail machineKey={key} summary={m} /> : null}
            </MachineCard>
          );
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
