import type { ReactNode } from 'react';

export type ChipColor = 'default' | 'green' | 'orange' | 'red' | 'purple';

/**
 * A small label in the look of Ant Design's filled Tag, as plain markup: the
 * list view shows a dozen per machine, and a plain span costs a fraction of a
 * Tag with a Tooltip. The hint shows on hover (title).
 */
export function Chip({ color = 'default', icon, hint, className, children }: { color?: ChipColor; icon?: ReactNode; hint?: string; className?: string; children: ReactNode }) {
  return (
    <span className={`chip chip-${color}${className ? ` ${className}` : ''}`} title={hint}>
      {icon}
      {children}
    </span>
  );
}

/** A thin progress bar (0–100 %) as plain markup. */
export function Bar({ percent, color, label }: { percent: number; color?: string; label?: string }) {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  return (
    <span className="bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p)} aria-label={label}>
      <span style={{ width: `${p}%`, background: color }} />
    </span>
  );
}
