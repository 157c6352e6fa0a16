import { Alert as Banner, Button, Card, Flex, InputNumber, Select, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { firingCount, useActiveAlerts } from '../api/alerts';
import { useMachines } from '../api/hooks';
import type { Alert } from '../api/types';
import { useNow } from '../components/useNow';
import { alertKey, SEVERITY_COLOR } from '../lib/alerts';
import { hostColor } from '../lib/colors';
import { formatDateTime, formatDuration, secondsSince } from '../lib/format';
import { useAlertText, type AlertT } from '../state/alertMessages';
import { useI18n } from '../state/i18n';
import { permission, useNotifyPrefs, type FreeFilter, type Permission } from '../state/notify';

function Since({ time }: { time?: string | null }) {
  const now = useNow();
  const { t } = useI18n();
  const s = secondsSince(time, now);
  return <span title={formatDateTime(time)}>{s == null ? '–' : formatDuration(s, t)}</span>;
}

function columns(t: AlertT): ColumnsType<Alert> {
  return [
    {
      title: t('alerts.severity'),
      dataIndex: 'severity',
      key: 'severity',
      width: 110,
      render: (v: string) => (v ? <Tag color={SEVERITY_COLOR[v] ?? 'default'}>{v}</Tag> : null),
    },
    {
      title: t('alerts.alert'),
      key: 'alert',
      render: (_: unknown, a) => (
        <Flex vertical gap={0}>
          <Typography.Text strong>{a.name}</Typography.Text>
          {a.annotations?.summary ? <Typography.Text>{a.annotations.summary}</Typography.Text> : null}
          {a.annotations?.description ? (
            <Typography.Text type="secondary" className="alert-description">
              {a.annotations.description}
            </Typography.Text>
          ) : null}
        </Flex>
      ),
    },
    {
      title: t('alerts.machine'),
      key: 'machine',
      width: 220,
      render: (_: unknown, a) =>
        a.machine ? (
          <Flex gap={6} align="center" wrap>
            <span className="host-mark" style={{ ['--host-color' as string]: hostColor(a.hostname || a.machine) }} aria-hidden />
            <Link to={`/window/${encodeURIComponent(a.machine)}`} data-testid={`alert-machine-${a.machine}`}>
              {a.hostname || a.machine}
            </Link>
            {a.gpu != null ? <Tag>{t('alerts.gpu', { gpu: a.gpu })}</Tag> : null}
          </Flex>
        ) : (
          '–'
        ),
    },
    {
      title: t('alerts.since'),
      key: 'since',
      width: 110,
      render: (_: unknown, a) => <Since time={a.active_at} />,
    },
    {
      title: t('alerts.state'),
      dataIndex: 'state',
      key: 'state',
      width: 100,
      render: (v: string) => <Tag color={v === 'firing' ? 'red' : 'gold'}>{t(v === 'firing' ? 'alerts.state.firing' : 'alerts.state.pending')}</Tag>,
    },
  ];
}

/** Asks the browser for notifications and says where they stand. */
function PermissionLine({ t, state, onAsk }: { t: AlertT; state: Permission; onAsk: () => void }) {
  const type = state === 'granted' ? 'success' : state === 'denied' || state === 'unsupported' ? 'warning' : 'info';
  return (
    <Banner
      type={type}
      showIcon
      data-testid="notify-permission"
      data-state={state}
      title={t(`alerts.permission.${state}`)}
      action={
        state === 'default' ? (
          <Button size="small" type="primary" onClick={onAsk} data-testid="notify-allow">
            {t('alerts.allow')}
          </Button>
        ) : null
      }
    />
  );
}

function FilterFields({ t, value, onChange, disabled }: { t: AlertT; value: FreeFilter; onChange: (f: FreeFilter) => void; disabled: boolean }) {
  return (
    <Flex gap={12} wrap align="center" className="notify-filter">
      <Flex gap={6} align="center">
        <label htmlFor="notify-min-free">{t('alerts.filterMinFree')}</label>
        <InputNumber id="notify-min-free" min={0} max={4096} value={value.minFreeGiB} disabled={disabled} style={{ width: 90 }}
          onChange={(v) => onChange({ ...value, minFreeGiB: Number(v) || 0 })} />
      </Flex>
      <Flex gap={6} align="center">
        <label htmlFor="notify-max-util">{t('alerts.filterMaxUtil')}</label>
        <InputNumber id="notify-max-util" min={0} max={100} value={value.maxUtil} placeholder={t('alerts.filterDefault')} disabled={disabled}
          style={{ width: 110 }} onChange={(v) => onChange({ ...value, maxUtil: v == null ? undefined : Number(v) })} />
      </Flex>
      <Flex gap={6} align="center">
        <label htmlFor="notify-min-pct">{t('alerts.filterMinPct')}</label>
        <InputNumber id="notify-min-pct" min={0} max={100} value={value.minFreePercent} placeholder={t('alerts.filterDefault')} disabled={disabled}
          style={{ width: 110 }} onChange={(v) => onChange({ ...value, minFreePercent: v == null ? undefined : Number(v) })} />
      </Flex>
      <Flex gap={6} align="center">
        <Switch size="small" id="notify-shared" checked={value.shared} disabled={disabled} onChange={(v) => onChange({ ...value, shared: v })} />
        <label htmlFor="notify-shared">{t('alerts.filterShared')}</label>
      </Flex>
      <Flex gap={6} align="center">
        <Switch size="small" id="notify-idle" checked={value.idle} disabled={disabled} onChange={(v) => onChange({ ...value, idle: v })} />
        <label htmlFor="notify-idle">{t('alerts.filterIdle')}</label>
      </Flex>
    </Flex>
  );
}

/** The user's browser notifications: permission, free GPUs by a filter, alerts of pinned machines. */
function NotifyCard({ t }: { t: AlertT }) {
  const [prefs, update] = useNotifyPrefs();
  const [state, setState] = useState<Permission>(permission);
  const machines = useMachines();
  const ask = () => {
    void Notification.requestPermission().then((p) => setState(p as Permission), () => setState(permission()));
  };
  const off = state !== 'granted';
  const options = (machines.data?.machines ?? []).map((m) => ({ value: m.key ?? '', label: m.hostname || m.key }));
  return (
    <Card size="small" title={t('alerts.notify')} className="notify-card" data-testid="notify-card">
      <Flex vertical gap={12}>
        <Typography.Text type="secondary">{t('alerts.notifyHint')}</Typography.Text>
        <PermissionLine t={t} state={state} onAsk={ask} />
        <Flex gap={8} align="center">
          <Switch id="notify-free" data-testid="notify-free" checked={prefs.freeGpus && !off} disabled={off} onChange={(v) => update({ freeGpus: v })} />
          <label htmlFor="notify-free">{t('alerts.notifyFree')}</label>
        </Flex>
        <FilterFields t={t} value={prefs.freeFilter} disabled={off} onChange={(f) => update({ freeFilter: f })} />
        <Flex gap={8} align="center">
          <Switch id="notify-pinned" data-testid="notify-pinned" checked={prefs.pinnedAlerts && !off} disabled={off} onChange={(v) => update({ pinnedAlerts: v })} />
          <label htmlFor="notify-pinned">{t('alerts.notifyPinned')}</label>
        </Flex>
        <Flex gap={8} align="center">
          <label htmlFor="notify-pins">{t('alerts.pinned')}</label>
          <Select
            id="notify-pins"
            data-testid="notify-pins"
            mode="multiple"
            allowClear
            disabled={off}
            style={{ minWidth: 320, flex: 1 }}
            placeholder={t('alerts.pinPlaceholder')}
            value={prefs.pinned}
            options={options}
            onChange={(v: string[]) => update({ pinned: v })}
          />
        </Flex>
      </Flex>
    </Card>
  );
}

/**
 * What the hub's alerting rules fire now: severity, alert, the machine and
 * GPU (linked), since when. Below, the browser notifications a user can turn
 * on. Loaded on demand, from the header's bell.
 */
export default function AlertsPage() {
  const { t } = useAlertText();
  const [pending, setPending] = useState(false);
  const q = useActiveAlerts(pending);
  const cols = useMemo(() => columns(t), [t]);
  const rules = q.data?.rules ?? 0;
  return (
    <div className="alerts-page">
      <Flex gap={12} align="baseline" wrap>
        <Typography.Title level={4}>{t('alerts.title')}</Typography.Title>
        <Typography.Text type="secondary" data-testid="alerts-count">
          {t('alerts.firing', { n: firingCount(q.data?.alerts) })}
        </Typography.Text>
      </Flex>
      {q.data ? (
        <Typography.Paragraph type="secondary" data-testid="alerts-rules">
          {rules ? t('alerts.rules', { n: rules }) : t('alerts.noRules')}
        </Typography.Paragraph>
      ) : null}
      <Flex gap={8} align="center" className="page-toolbar">
        <Switch size="small" id="alerts-pending" checked={pending} onChange={setPending} />
        <Tooltip title={t('alerts.pendingHint')}>
          <label htmlFor="alerts-pending">{t('alerts.pending')}</label>
        </Tooltip>
      </Flex>
      <Table<Alert>
        size="small"
        rowKey={alertKey}
        columns={cols}
        dataSource={q.data?.alerts ?? []}
        loading={q.isLoading}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: q.error ? (q.error as Error).message : t('alerts.none') }}
        rowClassName={(a) => `alert-row alert-${a.state}`}
        onRow={(a) => ({ 'data-testid': `alert-${a.name}-${a.machine}` }) as React.HTMLAttributes<HTMLElement>}
        scroll={{ x: 800 }}
      />
      <NotifyCard t={t} />
    </div>
  );
}
