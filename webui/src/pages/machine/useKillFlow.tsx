import { App, Table, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import { ApiError } from '../../api/client';
import { useKillProcesses } from '../../api/hooks';
import type { KillResult, MachineSummary } from '../../api/types';
import type { KillPermission, KillTarget } from '../../components/ProcessTable';
import type { T } from '../../state/i18n';
import { useI18n } from '../../state/i18n';
import { useSettings } from '../../state/SettingsContext';

/** The processes a kill is about to stop: PID, user and the full command line of each. */
function KillTargets({ procs, t }: { procs: KillTarget[]; t: T }) {
  return (
    <div data-testid="kill-targets">
      <Typography.Paragraph>{t('kill.confirmBody')}</Typography.Paragraph>
      <ul className="kill-targets">
        {procs.map((p) => (
          <li key={p.pid}>
            <Typography.Text code>{p.pid}</Typography.Text> <strong>{p.username || '–'}</strong>
            <div className="cmdline-full">{p.cmdline || p.name || '?'}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function KillResults({ results, t }: { results: KillResult[]; t: T }) {
  const failed = results.filter((r) => r.status !== 'success').length;
  return (
    <div className="kill-result" data-testid="kill-result">
      <Typography.Paragraph>
        {failed ? t('kill.summaryFailed', { failed, n: results.length }) : t('kill.summaryOk', { n: results.length })}
      </Typography.Paragraph>
      <Table<KillResult>
        size="small"
        rowKey="pid"
        pagination={false}
        dataSource={results}
        columns={[
          { title: t('proc.pid'), dataIndex: 'pid', width: 90 },
          {
            title: t('kill.status'),
            dataIndex: 'status',
            width: 120,
            render: (s: string) => (
              <Tag color={s === 'success' ? 'green' : 'red'} data-status={s}>
                {t(s === 'success' ? 'kill.success' : 'kill.error')}
              </Tag>
            ),
          },
          // The agent's own words about each PID.
          { title: t('kill.message'), dataIndex: 'message' },
        ]}
      />
    </div>
  );
}

/**
 * Whether processes of this machine may be stopped (and why not), and the
 * confirm → POST /api/kill-processes → per-PID result flow.
 */
export function useKillFlow(summary: MachineSummary | undefined): KillPermission | undefined {
  const { settings } = useSettings();
  const { t } = useI18n();
  const { modal } = App.useApp();
  const kill = useKillProcesses();
  const host = summary?.key ?? summary?.hostname ?? '';
  const reason = !summary
    ? undefined
    : !settings.adminToken
      ? t('kill.noAdmin')
      : !summary.online
        ? t('kill.offline')
        : !summary.can_kill
          ? summary.source === 'legacy'
            ? t('kill.legacy')
            : t('kill.notAllowed')
          : undefined;
  const { mutateAsync } = kill;
  return useMemo(() => {
    if (!summary) return undefined;
    const showResult = (results: KillResult[]) =>
      modal[results.every((r) => r.status === 'success') ? 'success' : 'warning']({
        title: t('kill.resultTitle', { host }),
        width: 560,
        content: <KillResults results={results} t={t} />,
      });
    return {
      allowed: !reason,
      reason,
      onKill: (procs: KillTarget[]) => {
        const pids = procs.map((p) => p.pid).filter((pid): pid is number => pid != null);
        if (reason || !pids.length) return;
        modal.confirm({
          title: t('kill.confirmTitle', { n: pids.length, host }),
          content: <KillTargets procs={procs} t={t} />,
          width: 560,
          okText: t('kill.ok'),
          okButtonProps: { danger: true },
          cancelText: t('kill.cancel'),
          onOk: async () => {
            try {
              const res = await mutateAsync({ hostname: host, pids });
              showResult(res.results ?? []);
            } catch (e) {
              const msg = e instanceof ApiError ? `${e.status || ''} ${e.message}`.trim() : String(e);
              modal.error({ title: t('kill.failed', { message: msg }) });
            }
          },
        });
      },
    };
  }, [summary, reason, host, modal, t, mutateAsync]);
}
