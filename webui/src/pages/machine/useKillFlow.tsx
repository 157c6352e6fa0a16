import { App, Table, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import { ApiError } from '../../api/client';
import { useKillProcesses } from '../../api/hooks';
import type { KillResult, MachineSummary } from '../../api/types';
import type { KillPermission } from '../../components/ProcessTable';
import { useI18n } from '../../state/i18n';
import { useSettings } from '../../state/SettingsContext';

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
    const showResult = (results: KillResult[], message?: string, ok?: boolean) =>
      modal[ok ? 'success' : 'warning']({
        title: t('kill.resultTitle', { host }),
        width: 560,
        content: (
          <div className="kill-result" data-testid="kill-result">
            {message ? <Typography.Paragraph>{message}</Typography.Paragraph> : null}
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
                  width: 90,
                  render: (s: string) => <Tag color={s === 'success' ? 'green' : 'red'}>{s}</Tag>,
                },
                { title: t('kill.message'), dataIndex: 'message' },
              ]}
            />
          </div>
        ),
      });
    return {
      allowed: !reason,
      reason,
      onKill: (pids: number[]) => {
        if (reason || !pids.length) return;
        modal.confirm({
          title: t('kill.confirmTitle', { n: pids.length, host }),
          content: t('kill.confirmBody', { pids: pids.join(', ') }),
          okText: t('kill.ok'),
          okButtonProps: { danger: true },
          cancelText: t('kill.cancel'),
          onOk: async () => {
            try {
              const res = await mutateAsync({ hostname: host, pids });
              showResult(res.results ?? [], res.message, res.status === 'success');
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
