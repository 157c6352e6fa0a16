import { Alert, Card, Col, Empty, Row, Segmented, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { useUsage } from '../api/hooks';
import type { IdleGpu, UsageRow } from '../api/types';
import { formatDuration, formatMiB } from '../lib/format';
import { sumUsage, UNKNOWN_USER } from '../lib/usage';
import { usePageTitle } from '../components/usePageTitle';
import { useI18n, type T } from '../state/i18n';

const hours = (v?: number) => (v == null ? '–' : v.toFixed(v < 10 ? 2 : 1));

function rowColumns(t: T, link: boolean): ColumnsType<UsageRow> {
  return [
    {
      title: t('usage.name'),
      dataIndex: 'name',
      key: 'name',
      ellipsis: true,
      render: (n: string) =>
        link ? (
          <Link to={`/window/${encodeURIComponent(n)}`}>{n}</Link>
        ) : n === UNKNOWN_USER ? (
          <Tooltip title={t('usage.unknownHint')}>
            <Typography.Text italic className="usage-unknown">
              {t('usage.unknown')}
            </Typography.Text>
          </Tooltip>
        ) : (
          n || '–'
        ),
    },
    { title: t('usage.gpuHours'), dataIndex: 'gpu_hours', key: 'h', width: 120, align: 'right', render: hours, sorter: (a, b) => (a.gpu_hours ?? 0) - (b.gpu_hours ?? 0), defaultSortOrder: 'descend' },
    { title: t('usage.memHours'), dataIndex: 'gpu_memory_gib_hours', key: 'm', width: 180, align: 'right', render: hours, sorter: (a, b) => (a.gpu_memory_gib_hours ?? 0) - (b.gpu_memory_gib_hours ?? 0) },
  ];
}

function idleColumns(t: T): ColumnsType<IdleGpu> {
  return [
    { title: t('free.machine'), dataIndex: 'machine', key: 'machine', render: (m: string, g) => <Link to={`/window/${encodeURIComponent(m)}`}>{g.hostname || m}</Link> },
    { title: t('free.gpu'), key: 'gpu', render: (_: unknown, g) => `${g.index} · ${g.name ?? ''}` },
    { title: t('gpu.memory'), dataIndex: 'memory_used', key: 'mem', width: 110, align: 'right', render: (v: number) => formatMiB(v) },
    { title: t('usage.idleFor'), dataIndex: 'idle_seconds', key: 'idle', width: 120, render: (v: number) => formatDuration(v, t) },
    { title: t('usage.heldBy'), dataIndex: 'users', key: 'users', render: (u?: string[]) => (u ?? []).map((x) => <Tag key={x}>{x}</Tag>) },
  ];
}

/** A table's last row: the column sums. */
function SumRow({ label, row }: { label: string; row: { gpu_hours: number; gpu_memory_gib_hours: number } }) {
  return (
    <Table.Summary.Row className="usage-sum">
      <Table.Summary.Cell index={0}>
        <Typography.Text strong>{label}</Typography.Text>
      </Table.Summary.Cell>
      <Table.Summary.Cell index={1} align="right">
        <Typography.Text strong>{hours(row.gpu_hours)}</Typography.Text>
      </Table.Summary.Cell>
      <Table.Summary.Cell index={2} align="right">
        <Typography.Text strong>{hours(row.gpu_memory_gib_hours)}</Typography.Text>
      </Table.Summary.Cell>
    </Table.Summary.Row>
  );
}

interface UsageTableProps {
  columns: ColumnsType<UsageRow>;
  rows: UsageRow[] | undefined;
  loading: boolean;
  empty: string;
  sumLabel: string;
  sum: { gpu_hours: number; gpu_memory_gib_hours: number };
}

/** Users or machines with their GPU-hours and GiB-hours, summed in the last row. */
function UsageTable({ columns, rows, loading, empty, sumLabel, sum }: UsageTableProps) {
  return (
    <Table<UsageRow>
      size="small"
      rowKey="name"
      columns={columns}
      dataSource={rows ?? []}
      loading={loading}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      locale={{ emptyText: empty }}
      summary={() => (rows?.length ? <SumRow label={sumLabel} row={sum} /> : null)}
    />
  );
}

/** Who used how many GPU-hours, per user and per machine, and which GPUs sit held but idle. */
export default function UsagePage() {
  const { t } = useI18n();
  const [days, setDays] = useState(7);
  usePageTitle(t('nav.usage'));
  const q = useUsage(days);
  const users = useMemo(() => rowColumns(t, false), [t]);
  const machines = useMemo(() => rowColumns(t, true), [t]);
  const idle = useMemo(() => idleColumns(t), [t]);
  const notStored = q.error instanceof ApiError && [404, 501, 503].includes(q.error.status);
  const userSum = sumUsage(q.data?.users);
  const machineSum = q.data?.total ? { gpu_hours: q.data.total.gpu_hours ?? 0, gpu_memory_gib_hours: q.data.total.gpu_memory_gib_hours ?? 0 } : sumUsage(q.data?.machines);
  const after = formatDuration(q.data?.idle_after_seconds ?? 0, t);
  const overlap = userSum.gpu_hours > machineSum.gpu_hours + 0.005;
  return (
    <div className="usage-page">
      <Typography.Title level={4}>{t('usage.title')}</Typography.Title>
      <div className="page-toolbar">
        <Typography.Text>{t('usage.range')} </Typography.Text>
        <Segmented aria-label={t('usage.range')} value={days} onChange={(v) => setDays(Number(v))} options={[
            { value: 1, label: t('usage.hours', { n: 24 }) },
            { value: 7, label: t('usage.days', { n: 7 }) },
            { value: 30, label: t('usage.days', { n: 30 }) },
          ]} />
      </div>
      {notStored ? (
        <Empty description={t('history.none')} />
      ) : q.error ? (
        <Alert type="error" showIcon title={(q.error as Error).message} />
      ) : (
        <Row gutter={[12, 12]}>
          <Col xs={24}>
            <Card size="small" title={t('usage.idleHeld')} extra={q.data ? <Typography.Text type="secondary">{t('usage.idleAfter', { after })}</Typography.Text> : null}>
              <Table<IdleGpu>
                size="small"
                rowKey={(g) => `${g.machine}/${g.index}`}
                columns={idle}
                dataSource={q.data?.idle_held ?? []}
                loading={q.isLoading}
                pagination={false}
                locale={{ emptyText: t('usage.noIdleFor', { after }) }}
              />
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title={t('usage.users')} className="usage-users">
              <UsageTable columns={users} rows={q.data?.users} loading={q.isLoading} empty={t('usage.none')} sumLabel={t('usage.sum')} sum={userSum} />
              <Typography.Paragraph type="secondary" className="usage-note" data-testid="usage-overlap">
                {overlap ? t('usage.overlap', { users: hours(userSum.gpu_hours), machines: hours(machineSum.gpu_hours) }) : t('usage.adds')}
              </Typography.Paragraph>
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title={t('usage.machines')} className="usage-machines">
              <UsageTable columns={machines} rows={q.data?.machines} loading={q.isLoading} empty={t('usage.none')} sumLabel={t('usage.total')} sum={machineSum} />
            </Card>
          </Col>
        </Row>
      )}
    </div>
  );
}
