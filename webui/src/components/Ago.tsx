import { formatDateTime, formatDuration, secondsSince } from '../lib/format';
import { useI18n } from '../state/i18n';
import { useNow } from './useNow';

/** "updated 4 s ago", ticking; the full time on hover. */
export function Ago({ time }: { time?: string | null }) {
  const now = useNow();
  const { t } = useI18n();
  const s = secondsSince(time, now);
  if (s == null) return <span>–</span>;
  return (
    <span className="ago" title={t('machine.updatedAt', { time: formatDateTime(time) })}>
      {t('machine.updated', { ago: formatDuration(s) })}
    </span>
  );
}
