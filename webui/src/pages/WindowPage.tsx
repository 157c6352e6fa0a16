import { Badge, Empty, Flex, Input, Layout, Menu, Select, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { Navigate, useNavigate, useParams } from 'react-router';
import { useMachine, useMachines } from '../api/hooks';
import { hostColor } from '../lib/colors';
import { machineState, sortMachines, summaryFor } from '../lib/machine';
import { ForgetButton } from '../components/ForgetButton';
import { MachineTags } from '../components/MachineTags';
import { useCoarseNow } from '../components/useNow';
import { useI18n } from '../state/i18n';
import { MachineDetail } from './machine/MachineDetail';

/** Window view: one machine at a time, picked from a menu of hostnames. */
export default function WindowPage() {
  const { t } = useI18n();
  const { key } = useParams();
  const navigate = useNavigate();
  const q = useMachines();
  const detail = useMachine(key);
  const now = useCoarseNow(5000);
  const [filter, setFilter] = useState('');
  // Below the breakpoint the host menu folds away; a select takes its place.
  const [narrow, setNarrow] = useState(false);
  const machines = useMemo(() => sortMachines(q.data?.machines ?? []), [q.data]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? machines.filter((m) => (m.key ?? '').toLowerCase().includes(f)) : machines;
  }, [machines, filter]);
  const items = useMemo(
    () =>
      shown.map((m) => {
        const state = machineState(m, now);
        return {
          key: m.key ?? '',
          label: (
            <Flex align="center" gap={8} className={`host-item host-${state}`} data-testid={`host-${m.key}`}>
              <Badge color={state === 'online' ? hostColor(m.hostname || m.key || '') : '#bfbfbf'} />
              <span className="host-item-name">{m.hostname || m.key}</span>
              {state !== 'online' ? (
                <Typography.Text type="secondary" className="host-item-state">
                  {state === 'offline' ? t('machine.offline') : t('machine.stale')}
                </Typography.Text>
              ) : null}
            </Flex>
          ),
        };
      }),
    [shown, now, t],
  );
  if (!key) {
    return machines.length ? <Navigate to={`/window/${encodeURIComponent(machines[0].key ?? '')}`} replace /> : null;
  }
  const listed = machines.find((m) => m.key === key);
  // The head's figures are of the sample the GPU cards below show.
  const current = listed && summaryFor(listed, detail.data);
  const state = listed ? machineState(listed, now) : 'online';
  return (
    <Layout className="window-layout">
      <Layout.Sider width={240} breakpoint="md" collapsedWidth={0} trigger={null} onBreakpoint={setNarrow} theme="light" className="host-sider">
        <Input.Search allowClear size="small" placeholder={t('fleet.filter')} value={filter} onChange={(e) => setFilter(e.target.value)} className="host-filter" />
        <Menu mode="inline" selectedKeys={[key]} items={items} onClick={(e) => navigate(`/window/${encodeURIComponent(e.key)}`)} className="host-menu" />
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
            <Flex align="center" gap={10} wrap className="window-head" style={{ ['--host-color' as string]: hostColor(current.hostname || key) }}>
              <span className="host-dot" aria-hidden />
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
