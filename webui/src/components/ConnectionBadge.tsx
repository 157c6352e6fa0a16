import { Badge, Tooltip } from 'antd';
import type { ConnectionState } from '../api/connection';
import { useI18n } from '../state/i18n';

/** Live / polling / unreachable, with what it means on hover. */
export function ConnectionBadge({ state, reachable, refreshSeconds }: { state: ConnectionState; reachable: boolean; refreshSeconds: number }) {
  const { t } = useI18n();
  if (!reachable) {
    return (
      <Tooltip title={t('err.unreachable')}>
        <Badge status="error" text={t('conn.down')} className="conn-badge" data-testid="conn" data-state="down" />
      </Tooltip>
    );
  }
  if (state === 'live') {
    return (
      <Tooltip title={t('conn.liveHint')}>
        <Badge status="processing" color="green" text={t('conn.live')} className="conn-badge" data-testid="conn" data-state="live" />
      </Tooltip>
    );
  }
  if (state === 'connecting') {
    return <Badge status="default" text={t('conn.connecting')} className="conn-badge" data-testid="conn" data-state="connecting" />;
  }
  return (
    <Tooltip title={t('conn.pollingHint', { s: refreshSeconds })}>
      <Badge status="warning" text={t('conn.polling', { s: refreshSeconds })} className="conn-badge" data-testid="conn" data-state="polling" />
    </Tooltip>
  );
}
