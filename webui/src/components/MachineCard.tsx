import { DownOutlined, ExpandOutlined, RightOutlined } from '@ant-design/icons';
import { memo, type CSSProperties, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { MachineSummary } from '../api/types';
import { hostColor, LEVEL_STROKE, LEVEL_TAG_COLOR, temperatureLevel, usageLevel } from '../lib/colors';
import { formatMiB, percentOf } from '../lib/format';
import type { MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { Bar } from './Chip';
import { MachineTags } from './MachineTags';

export interface MachineCardProps {
  m: MachineSummary;
  state: MachineState;
  expanded: boolean;
  onToggle: (key: string) => void;
  /** Rendered only while expanded. */
  children?: ReactNode;
}

/**
 * One machine in the list view: a coloured header with its tags, collapsible
 * body. Plain markup styled with the theme's variables (styles.css): a page
 * shows up to a hundred of these headers at once, and they are what the first
 * paint waits for.
 */
export const MachineCard = memo(function MachineCard({ m, state, expanded, onToggle, children }: MachineCardProps) {
  const { t } = useI18n();
  const key = m.key ?? '';
  const offline = state === 'offline';
  const temp = m.max_temperature;
  const memPct = percentOf(m.gpu_memory_used, m.gpu_memory_total);
  return (
    <section
      className={`machine-card${offline ? ' machine-offline' : ''}${expanded ? '' : ' machine-collapsed'}`}
      style={{ '--host-color': hostColor(m.hostname || key) } as CSSProperties}
      data-testid={`machine-${key}`}
      data-state={state}
      aria-label={m.hostname || key}
    >
      <header className="machine-card-head">
        <button
          type="button"
          className="icon-button machine-toggle"
          aria-label={expanded ? t('machine.collapse') : t('machine.expand')}
          aria-expanded={expanded}
          onClick={() => onToggle(key)}
        >
          {expanded ? <DownOutlined /> : <RightOutlined />}
        </button>
        <strong className="machine-name" onClick={() => onToggle(key)}>
          {m.hostname || key}
        </strong>
        <span className="machine-gpus" title={m.gpu_count ? `${t('totals.busyHint')} ${t('totals.freeHint')}` : undefined}>
          {t('machine.gpus', { n: m.gpu_count ?? 0 })}
          {m.gpu_count
            ? ` · ${t('machine.busy', { n: m.gpus_busy ?? 0 })} · ${t('totals.free', { n: m.gpus_free ?? 0 })} · ${formatMiB(m.gpu_memory_used)} / ${formatMiB(m.gpu_memory_total)}`
            : ''}
        </span>
        {m.gpu_count ? (
          <span className="mini-meters" title={`${t('gpu.utilization')} ${Math.round(m.gpu_utilization ?? 0)}% · ${t('gpu.memory')} ${Math.round(memPct)}%`}>
            <Bar percent={m.gpu_utilization ?? 0} color={LEVEL_STROKE[usageLevel(m.gpu_utilization)]} label={t('gpu.utilization')} />
            <Bar percent={memPct} label={t('gpu.memory')} />
          </span>
        ) : null}
        {temp != null ? <span className={`temp-text temp-${LEVEL_TAG_COLOR[temperatureLevel(temp)]}`}>{temp}°C</span> : null}
        <MachineTags m={m} state={state} />
        <Link to={`/window/${encodeURIComponent(key)}`} aria-label={t('machine.open')} title={t('machine.open')} className="machine-open">
          <ExpandOutlined />
        </Link>
      </header>
      {expanded ? <div className="machine-card-body">{children}</div> : null}
    </section>
  );
});
