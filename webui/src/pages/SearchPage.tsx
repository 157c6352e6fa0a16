import { Checkbox, Flex, Input, Select, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useDeferredValue, useMemo } from 'react';
import { Link } from 'react-router';
import { useGpuStats } from '../api/hooks';
import type { Process } from '../api/types';
import { ProcessName } from '../components/ProcessName';
import { formatMiB, formatPercent } from '../lib/format';
import { matchesQuery, sortProcesses } from '../lib/processes';
import { usePageTitle } from '../components/usePageTitle';
import { useUrlState } from '../components/useUrlState';
import { useI18n, type T } from '../state/i18n';
import { useSettings } from '../state/SettingsContext';

type Row = Process & { machine: string; rowKey: string };

function columns(t: T): ColumnsType<Row> {
  return [
    {
      title: t('search.machine'),
      dataIndex: 'machine',
      key: 'machine',
      width: 150,
      ellipsis: true,
      render: (m: string) => <Link to={`/window/${encodeURIComponent(m)}`}>{m}</Link>,
    },
    { title: t('proc.pid'), dataIndex: 'pid', key: 'pid', width: 80 },
    { title: t('proc.name'), key: 'name', ellipsis: true, render: (_: unknown, p) => <ProcessName name={p.name} cmdline={p.cmdline} /> },
    { title: t('proc.user'), dataIndex: 'username', key: 'user', width: 100, ellipsis: true },
    { title: t('proc.cpu'), dataIndex: 'cpu_percent', key: 'cpu', width: 96, align: 'right', sorter: (a, b) => (a.cpu_percent ?? 0) - (b.cpu_percent ?? 0), render: (v: number) => formatPercent(v) },
    { title: t('proc.mem'), dataIndex: 'memory_percent', key: 'mem', width: 104, align: 'right', sorter: (a, b) => (a.memory_percent ?? 0) - (b.memory_percent ?? 0), render: (v: number) => formatPercent(v) },
    {
      title: t('proc.gpuMemory'),
      dataIndex: 'gpu_memory_usage',
      key: 'gpumem',
      width: 128,
      align: 'right',
      sorter: (a, b) => (a.gpu_memory_usage ?? 0) - (b.gpu_memory_usage ?? 0),
      render: (v: number, p) => (p.is_gpu_process || v ? formatMiB(v) : '–'),
    },
  ];
}

/** Search the processes of every machine (or one) by name or command line. */
export default function SearchPage() {
  const { t } = useI18n();
  const [params, setUrl] = useUrlState();
  const query = params.get('q') ?? '';
  usePageTitle(query.trim() || null, t('nav.search'));
  const machine = params.get('machine') ?? '';
  const { settings } = useSettings();
  const mine = params.get('mine') === '1' && !!settings.myUser;
  const deferred = useDeferredValue(query);
  const q = useGpuStats(true);
  const machines = useMemo(() => Object.keys(q.data?.machines ?? {}).sort(), [q.data]);
  const rows = useMemo(() => {
    const out: Row[] = [];
    for (const [key, r] of Object.entries(q.data?.machines ?? {})) {
      if (machine && key !== machine) continue;
      for (const p of r.system_info?.processes ?? []) {
        if (deferred && !matchesQuery(p, deferred)) continue;
        if (mine && p.username !== settings.myUser) continue;
        out.push({ ...p, machine: key, rowKey: `${key}/${p.pid}` });
      }
    }
    return sortProcesses(out);
  }, [q.data, deferred, machine, mine, settings.myUser]);
  const set = (k: string, v: string) => setUrl({ [k]: v });
  const cols = useMemo(() => columns(t), [t]);
  return (
    <div className="search-page">
      <Typography.Title level={4}>{t('search.title')}</Typography.Title>
      <Flex gap={8} wrap className="page-toolbar">
        <Input.Search
          allowClear
          autoFocus
          placeholder={t('search.placeholder')}
          aria-label={t('search.placeholder')}
          value={query}
          onChange={(e) => set('q', e.target.value)}
          style={{ maxWidth: 420 }}
        />
        <Select
          allowClear
          showSearch
          placeholder={t('search.allMachines')}
          aria-label={t('search.machine')}
          value={machine || undefined}
          onChange={(v) => set('machine', v ?? '')}
          options={machines.map((m) => ({ value: m, label: m }))}
          style={{ minWidth: 200 }}
        />
        {settings.myUser ? (
          <Checkbox checked={mine} onChange={(e) => set('mine', e.target.checked ? '1' : '')}>
            {t('proc.mine')} ({settings.myUser})
          </Checkbox>
        ) : null}
        <Typography.Text type="secondary" className="search-count">
          {t('search.count', { n: rows.length })}
        </Typography.Text>
      </Flex>
      <Table<Row>
        size="small"
        rowKey="rowKey"
        columns={cols}
        dataSource={rows}
        loading={q.isLoading}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
        tableLayout="fixed"
        locale={{ emptyText: q.error ? (q.error as Error).message : t('proc.none') }}
      />
    </div>
  );
}
