import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type CSSProperties } from 'react';
import { Link } from 'react-router';
import type { MachineSummary } from '../api/types';
import { hostColor } from '../lib/colors';
import { machineState } from '../lib/machine';
import { useI18n } from '../state/i18n';

const ITEM_HEIGHT = 36;

/**
 * The window view's machines, one link each, drawn only where the list
 * shows them (a thousand machines cost what thirty do). The current one is
 * marked for screen readers (aria-current) and by more than colour.
 */
export function HostList({ machines, current, now, label }: { machines: readonly MachineSummary[]; current?: string; now: number; label: string }) {
  const { t } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: machines.length, getScrollElement: () => scroller.current, estimateSize: () => ITEM_HEIGHT, overscan: 10, useFlushSync: false });
  const at = machines.findIndex((m) => m.key === current);
  // The current machine in sight when the page opens on it or the filter changes.
  useEffect(() => {
    if (at >= 0) v.scrollToIndex(at, { align: 'auto' });
  }, [at, v]);
  return (
    <nav aria-label={label} className="host-list" ref={scroller}>
      <ul style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => {
          const m = machines[item.index];
          const key = m.key ?? '';
          const state = machineState(m, now);
          const selected = key === current;
          return (
            <li key={key} style={{ transform: `translateY(${item.start}px)`, height: ITEM_HEIGHT }}>
              <Link
                to={`/window/${encodeURIComponent(key)}`}
                className={`host-item host-${state}${selected ? ' host-selected' : ''}`}
                aria-current={selected ? 'page' : undefined}
                data-testid={`host-${key}`}
                style={{ '--host-color': state === 'online' ? hostColor(m.hostname || key) : 'transparent' } as CSSProperties}
              >
                <span className="host-mark" aria-hidden />
                <span className="host-item-name">{m.hostname || key}</span>
                {state !== 'online' ? <span className="host-item-state">{state === 'offline' ? t('machine.offline') : t('machine.stale')}</span> : null}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
