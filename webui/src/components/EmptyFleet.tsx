import { Empty, Typography } from 'antd';
import { useI18n } from '../state/i18n';

/** No machine has reported yet: say how to start an agent. */
export function EmptyFleet({ hubHost }: { hubHost: string }) {
  const { t } = useI18n();
  // The token file, never the token: a command line is visible to every user.
  const cmd = `gpumon-agent --hub ${hubHost}:7865 --token-file /etc/gpumon/agent-token`;
  return (
    <Empty
      className="empty-fleet"
      image={Empty.PRESENTED_IMAGE_SIMPLE}
      description={
        <div>
          <Typography.Title level={4}>{t('empty.title')}</Typography.Title>
          <Typography.Paragraph>{t('empty.body')}</Typography.Paragraph>
          <Typography.Paragraph code copyable className="agent-cmd">
            {cmd}
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary">{t('empty.tokenHint')}</Typography.Paragraph>
        </div>
      }
    />
  );
}
