import { Alert, Card, Col, Empty, Row, Segmented, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { useUsage } from '../api/hooks';
import type { IdleGpu, UsageRow } from '../api/types';
import { formatDuration, formatMiB } from '../lib/format';
import { useI18n, type T } from '../state/i18n';

const hours = (v?: number) => (v == null ? '–' : v.toFixed(v < 10 ? 2 : 1));

function rowColumns(t: T, link: boolean): ColumnsType<UsageRow> {
  return [
    {
      title: t('usage.name'),
      dataIndex: 'name',
      key: 'name',
      ellipsis: true,
      render: (n: string) => (link ? <Link to={`/window/${encodeURIComponent(n)}`}>{n}</Link> : n || '–'),
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
    { title: t('usage.idleFor'), dataIndex: 'idle_seconds', key: 'idle', width: 120, render: (v: number) => formatDuration(v) },
    { title: t('usage.heldBy'), dataIndex: 'users', key: 'users', render: (u?: string[]) => (u ?? []).map((x) => <Tag key={x}>{x}</Tag>) },
  ];
}

/** Who used how many GPU-hours, per user and per machine, and which GPUs sit held but idle. */
export default function UsagePage() {
  const { t } = useI18n();
  const [days, setDays] = useState(7);
  const q = useUsage(days);
  const users = useMemo(() => rowColumns(t, false), [t]);
  const machines = useMemo(() => rowColumns(t, true), [t]);
  const idle = useMemo(() => idleColumns(t), [t]);
  const notStored = q.error instanceof ApiError && [404, 501, 503].includes(q.error.status);
  return (
    <div className="usage-page">
      <Typography.Title level={4}>{t('usage.title')}</Typography.Title>
      <div className="page-toolbar">
        <Typography.Text>{t('usage.range')} </Typography.Text>
        <Segmented value={days} onChange={(v) => setDays(Number(v))} options={[
            { value: 1, label: '24 h' },
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
            <Card size="small" title={t('usage.idleHeld')}>
              <Table<IdleGpu>
                size="small"
                rowKey={(g) => `${g.machine}/${g.index}`}
                columns={idle}
                dataSource={q.data?.idle_held ?? []}
                loading={q.isLoading}
                pagination={false}
                locale={{ emptyText: t('usage.noIdle') }}
              />
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title={t('usage.users')}>
              <Table<UsageRow> size="small" rowKey="name" columns={users} dataSource={q.data?.users ?? []} loading={q.isLoading} pagination={{ pageSize: 20, hideOnSinglePage: true }} locale={{ emptyText: t('usage.none') }} />
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title={t('usage.machines')}>
              <Table<UsageRow> size="small" rowKey="name" columns={machines} dataSource={q.data?.machines ?? []} loading={q.isLoading} pagination={{ pageSize: 20, hideOnSinglePage: true }} locale={{ emptyText: t('usage.none') }} />
            </Card>
          </Col>
        </Row>
      )}
    </div>
  );
}
