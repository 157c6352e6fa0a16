import { Empty, Flex, Input, Layout, Select, Typography } from 'antd';
import { useMemo, useState, type CSSProperties } from 'react';
import { Navigate, useNavigate, useParams, useSearchParams } from 'react-router';
import { useMachine, useMachines } from '../api/hooks';
import { hostColor } from '../lib/colors';
import { machineState, sortMachines, summaryFor } from '../lib/machine';
import { ForgetButton } from '../components/ForgetButton';
import { HostList } from '../components/HostList';
import { MachineTags } from '../components/MachineTags';
import { usePageTitle } from '../components/usePageTitle';
import { useCoarseNow } from '../components/useNow';
import type { MessageKey } from '../state/messages';
import { useI18n } from '../state/i18n';
import { MachineDetail } from './machine/MachineDetail';

/** Window view: one machine at a time, picked from a list of hostnames. */
export default function WindowPage() {
  const { t } = useI18n();
  const { key } = useParams();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const q = useMachines();
  const detail = useMachine(key);
  const now = useCoarseNow(5000);
  const [filter, setFilter] = useState('');
  // Below the breakpoint the host list folds away; a select takes its place.
  const [narrow, setNarrow] = useState(false);
  const machines = useMemo(() => sortMachines(q.data?.machines ?? []), [q.data]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? machines.filter((m) => (m.key ?? '').toLowerCase().includes(f) || (m.hostname ?? '').toLowerCase().includes(f)) : machines;
  }, [machines, filter]);
  const listed = machines.find((m) => m.key === key);
  // The head's figures are of the sample the GPU cards below show.
  const current = listed && summaryFor(listed, detail.data);
  const tab = params.get('tab');
  const gpu = params.get('gpu');
  usePageTitle(
    current?.hostname || key,
    gpu != null ? `GPU ${gpu} ${t('tabs.history')}` : tab && ['processes', 'containers', 'history'].includes(tab) ? t(`tabs.${tab}` as MessageKey) : null,
    t('nav.window'),
  );
  if (!key) {
    return machines.length ? <Navigate to={`/window/${encodeURIComponent(machines[0].key ?? '')}`} replace /> : null;
  }
  const state = listed ? machineState(listed, now) : 'online';
  return (
    <Layout className="window-layout">
      <Layout.Sider width={240} breakpoint="md" collapsedWidth={0} trigger={null} onBreakpoint={setNarrow} theme="light" className="host-sider">
        <Input.Search
          allowClear
          size="small"
          placeholder={t('fleet.filter')}
          aria-label={t('fleet.filter')}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          className="host-filter"
        />
        <HostList machines={shown} current={key} now={now} label={t('nav.window')} />
      </Layout.Sider>
      <Layout.Content className={`window-content${state === 'offline' ? ' machine-offline' : ''}`} data-testid="window-content" data-state={state}>
        {narrow ? (
          <Select
            showSearch
            className="host-select"
            aria-label={t('nav.window')}
            value={key}
            onChange={(k: string) => navigate(`/window/${encodeURIComponent(k)}`)}
            options={machines.map((m) => {
              const st = machineState(m, now);
              return { value: m.key ?? '', label: st === 'online' ? m.hostname || m.key : `${m.hostname || m.key} · ${t(st === 'offline' ? 'machine.offline' : 'machine.stale')}` };
            })}
          />
        ) : null}
        {current ? (
          <>
            <Flex align="center" gap={10} wrap className="window-head" style={{ '--host-color': hostColor(current.hostname || key) } as CSSProperties}>
              <span className="host-mark" aria-hidden />
              <Typography.Title level={4} className="window-title">
                {current.hostname || key}
              </Typography.Title>
              <MachineTags m={current} state={state} />
              <ForgetButton m={current} state={state} onForgotten={() => navigate('/window', { replace: true })} />
            </Flex>
            <MachineDetail key={key} machineKey={key} summary={current} full />
          </>
        ) : q.isLoading ? null : (
          <Empty description={t('machine.notFound', { key })} />
        )}
      </Layout.Content>
    </Layout>
  );
}
