import { formatDateTime, formatDuration, secondsSince } from '../lib/format';
import { useI18n } from '../state/i18n';
import { useNow } from './useNow';

/** Below this many seconds a report is "just now": the clocks of hub and browser differ by that much. */
const JUST_NOW_S = 3;

/** "updated 4 s ago", ticking; the full time on hover. */
export function Ago({ time }: { time?: string | null }) {
  const now = useNow();
  const { t } = useI18n();
  const s = secondsSince(time, now);
  if (s == null) return <span>–</span>;
  return (
    <span className="ago" title={t('machine.updatedAt', { time: formatDateTime(time) })}>
      {s < JUST_NOW_S ? t('machine.updatedNow') : t('machine.updated', { ago: formatDuration(s, t) })}
    </span>
  );
}
