import { Alert, Button, Col, Descriptions, Empty, Flex, Input, Modal, Row, Skeleton, Tabs } from 'antd';
import { memo, useCallback, useMemo, useState } from 'react';
import { useMachine } from '../../api/hooks';
import type { MachineSummary, Report } from '../../api/types';
import { ContainerTable } from '../../components/ContainerTable';
import { GpuCard } from '../../components/GpuCard';
import { ProcessTable } from '../../components/ProcessTable';
import { SessionTable } from '../../components/SessionTable';
import { useUrlState } from '../../components/useUrlState';
import { formatBytes, formatDuration, formatPercent } from '../../lib/format';
import { summaryFor } from '../../lib/machine';
import { processListCut } from '../../lib/processes';
import { useI18n } from '../../state/i18n';
import { useSettings } from '../../state/SettingsContext';
import { MachineHistory } from './MachineHistory';
import { useKillFlow } from './useKillFlow';

function SystemFacts({ r }: { r: Report }) {
  const { t } = useI18n();
  const si = r.system_info ?? {};
  const items = [
    { key: 'cpu', label: t('machine.cores'), children: [si.cpu_model ? `${si.cpu_model}${si.cpu_cores ? ` × ${si.cpu_cores}` : ''}` : '', formatPercent(si.cpu_percent)].filter(Boolean).join(' · ') },
    { key: 'mem', label: t('machine.memory'), children: `${formatBytes(si.memory_used)} / ${formatBytes(si.memory_total)} (${formatPercent(si.memory_percent)})` },
    { key: 'disk', label: t('machine.disk'), children: `${formatBytes(si.disk_used)} / ${formatBytes(si.disk_total)} (${formatPercent(si.disk_percent)})` },
    ...(si.load ? [{ key: 'load', label: t('machine.load'), children: `${si.load.load1?.toFixed(2)} ${si.load.load5?.toFixed(2)} ${si.load.load15?.toFixed(2)}` }] : []),
    ...(si.swap_total ? [{ key: 'swap', label: t('machine.swap'), children: `${formatBytes(si.swap_used)} / ${formatBytes(si.swap_total)}` }] : []),
    ...(si.uptime_seconds ? [{ key: 'up', label: t('machine.uptime'), children: formatDuration(si.uptime_seconds, t) }] : []),
    ...(si.os || si.kernel ? [{ key: 'os', label: t('machine.os'), children: `${si.os ?? ''} ${si.kernel ?? ''}`.trim() }] : []),
    ...(r.driver_version ? [{ key: 'drv', label: t('machine.driver'), children: `${r.driver_version} / ${r.cuda_version || '–'}` }] : []),
  ];
  return <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3, xxl: 4 }} items={items} className="system-facts" />;
}

export interface MachineDetailProps {
  machineKey: string;
  /** The summary from the machine list, shown until the machine's own answer (summary and report of one sample) arrives. */
  summary?: MachineSummary;
  /** Window view: system facts and roomier layout. */
  full?: boolean;
}

/** Everything about one machine: GPUs with their processes, sessions, containers, all processes, history. */
export const MachineDetail = memo(function MachineDetail({ machineKey, summary: listSummary, full }: MachineDetailProps) {
  const { t } = useI18n();
  const { settings } = useSettings();
  const q = useMachine(machineKey);
  const summary = summaryFor(listSummary, q.data);
  const report = q.data?.report;
  const offline = summary ? !summary.online : false;
  const kill = useKillFlow(summary);
  const [query, setQuery] = useState('');
  const [panel, setPanel] = useState<string | null>(null);
  // The window view keeps its tab and an open GPU history in the URL (deep links, back button).
  const [params, setUrl] = useUrlState();
  const [localGpu, setLocalGpu] = useState<number | null>(null);
  const urlGpu = params.get('gpu');
  const historyGpu = full ? (urlGpu != null && /^\d+$/.test(urlGpu) ? Number(urlGpu) : null) : localGpu;
  const tab = params.get('tab') ?? 'sessions';
  // A GPU's history is a place to go back from (a history entry); a tab is not.
  const setParam = useCallback((k: string, v: string | null) => setUrl({ [k]: v }, k !== 'tab'), [setUrl]);
  const setHistoryGpu = useCallback((g: number | null) => (full ? setParam('gpu', g == null ? null : String(g)) : setLocalGpu(g)), [full, setParam]);
  const containers = report?.system_info?.docker_containers;
  const containerName = useMemo(() => {
    const names = new Map((containers ?? []).map((c) => [c.id ?? '', c.name ?? '']));
    return (id: string) => names.get(id) ?? names.get(id.slice(0, 12));
  }, [containers]);
  const onHistory = useCallback((g: number) => setHistoryGpu(g), [setHistoryGpu]);

  if (q.isLoading) return <Skeleton active paragraph={{ rows: 6 }} />;
  if (!report) {
    return q.error ? <Alert type="error" showIcon title={(q.error as Error).message} /> : <Empty />;
  }
  const si = report.system_info ?? {};
  const gpus = report.gpu_data ?? [];
  const sessions = [...(si.screen_sessions ?? []), ...(si.tmux_sessions ?? []).map((s) => ({ ...s, kind: s.kind || 'tmux' }))];
  const allProcs = si.processes ?? [];
  const listCut = processListCut(report);
  const panels = [
    { key: 'sessions', label: `${t('tabs.sessions')} (${sessions.length})`, render: () => <SessionTable sessions={sessions} machine={summary} /> },
    {
      key: 'containers',
      label: `${t('tabs.containers')} (${si.docker_containers?.length ?? 0})`,
      render: () => <ContainerTable containers={si.docker_containers ?? []} machine={summary} />,
    },
    {
      key: 'processes',
      label: `${t('tabs.processes')} (${allProcs.length})`,
      render: () => (
        <>
          {listCut ? <Alert type="info" showIcon title={t('proc.cut', listCut)} className="detail-alert" data-testid="proc-cut" /> : null}
          <Input.Search
            allowClear
            placeholder={t('proc.search')}
            aria-label={t('proc.search')}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            className="proc-search"
          />
          <ProcessTable processes={allProcs} variant="all" defaultFilter="all" myUser={settings.myUser} query={query} kill={kill} containerName={containerName} />
        </>
      ),
    },
    { key: 'history', label: t('tabs.history'), render: () => <MachineHistory machine={machineKey} /> },
  ];
  const span = full ? { xs: 24, xl: 12, xxl: 8 } : { xs: 24, lg: 12, xxl: 8 };
  return (
    <div className="machine-detail">
      {q.error ? <Alert type="warning" showIcon title={(q.error as Error).message} className="detail-alert" /> : null}
      {full ? <SystemFacts r={report} /> : null}
      {gpus.length ? (
        <Row gutter={[12, 12]} className="gpu-grid">
          {gpus.map((g) => (
            <Col key={g.id ?? g.uuid} {...span}>
              <GpuCard
                gpu={g}
                offline={offline}
                asOf={summary?.last_seen}
                pythonOnly={settings.pythonOnly}
                myUser={settings.myUser}
                kill={kill}
                containerName={containerName}
                onHistory={onHistory}
              />
            </Col>
          ))}
        </Row>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('machine.noGpus')} />
      )}
      {full ? (
        <Tabs
          size="small"
          className="machine-tabs"
          destroyOnHidden
          activeKey={panels.some((p) => p.key === tab) ? tab : 'sessions'}
          onChange={(k) => setParam('tab', k === 'sessions' ? null : k)}
          items={panels.map((p) => ({ key: p.key, label: p.label, children: p.render() }))}
        />
      ) : (
        <>
          <Flex gap={6} wrap className="panel-buttons" role="tablist">
            {panels.map((p) => (
              <Button
                key={p.key}
                size="small"
                role="tab"
                aria-selected={panel === p.key}
                type={panel === p.key ? 'primary' : 'default'}
                ghost={panel === p.key}
                onClick={() => setPanel(panel === p.key ? null : p.key)}
              >
                {p.label}
              </Button>
            ))}
          </Flex>
          {panel ? <div className="panel-body">{panels.find((p) => p.key === panel)?.render()}</div> : null}
        </>
      )}
      <Modal
        open={historyGpu != null}
        title={`${summary?.hostname ?? machineKey} · GPU ${historyGpu} · ${t('history.title')}`}
        footer={null}
        onCancel={() => setHistoryGpu(null)}
        width={760}
        destroyOnHidden
      >
        {historyGpu != null ? <MachineHistory machine={machineKey} gpu={historyGpu} /> : null}
      </Modal>
    </div>
  );
});
