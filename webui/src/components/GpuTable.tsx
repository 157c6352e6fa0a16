import { CaretDownOutlined, CaretUpOutlined } from '@ant-design/icons';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, type CSSProperties, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { GpuRow } from '../api/types';
import { hostColor, LEVEL_STROKE, LEVEL_TAG_COLOR, temperatureLevel, usageLevel } from '../lib/colors';
import { formatMiB, percentOf } from '../lib/format';
import { gpuState, type GpuState, type SortDir, type SortKey } from '../lib/overview';
import type { MessageKey } from '../state/messages';
import { useI18n, type T } from '../state/i18n';
import { Bar } from './Chip';
import { useScrollMargin } from './useScrollMargin';

/** Row height, px: fixed, so the virtual list knows every row's place without measuring. */
export const GPU_ROW_HEIGHT = 40;

export const STATE_WORD: Record<GpuState, MessageKey> = {
  free: 'state.free',
  busy: 'state.busy',
  idle: 'state.idle',
  error: 'state.error',
  offline: 'machine.offline',
  unknown: 'state.unknown',
};

interface Column {
  key: string;
  title: MessageKey;
  sort?: SortKey;
  /** Right-aligned figures. */
  num?: boolean;
}

const COLUMNS: Column[] = [
  { key: 'machine', title: 'free.machine', sort: 'machine' },
  { key: 'gpu', title: 'free.gpu' },
  { key: 'state', title: 'overview.state', sort: 'state' },
  { key: 'util', title: 'free.util', sort: 'util', num: true },
  { key: 'memory', title: 'gpu.memory', sort: 'memory', num: true },
  { key: 'free', title: 'free.free', sort: 'free', num: true },
  { key: 'temp', title: 'free.temp', sort: 'temp', num: true },
  { key: 'power', title: 'gpu.power', sort: 'power', num: true },
  { key: 'users', title: 'overview.users', sort: 'user' },
];

const Row = memo(function Row({ g, t, style, index }: { g: GpuRow; t: T; style: CSSProperties; index: number }) {
  const state = gpuState(g);
  const memPct = percentOf(g.memory_used, g.memory_total);
  const temp = g.temperature;
  const users = (g.users ?? []).join(', ');
  const cell = (key: string, children: ReactNode, title?: string) => (
    <div role="cell" className={`gpu-cell gpu-cell-${key}`} title={title}>
      {children}
    </div>
  );
  return (
    <div role="row" aria-rowindex={index + 2} className={`gpu-row gpu-row-${state}`} style={style} data-testid="gpu-row">
      {cell(
        'machine',
        <>
          <span className="host-mark" style={{ '--host-color': hostColor(g.hostname || g.machine || '') } as CSSProperties} aria-hidden />
          <Link to={`/window/${encodeURIComponent(g.machine ?? '')}`}>{g.hostname || g.machine}</Link>
          <span className="only-narrow">· {g.index}</span>
        </>,
      )}
      {cell('gpu', `${g.index} · ${g.name ?? ''}`, g.name)}
      {cell('state', <span className={`state-tag state-${state}`}>{t(STATE_WORD[state])}</span>)}
      {cell(
        'util',
        <>
          <Bar percent={g.utilization ?? 0} color={LEVEL_STROKE[usageLevel(g.utilization)]} label={t('gpu.utilization')} />
          <span>{g.utilization == null ? '–' : `${g.utilization}%`}</span>
        </>,
      )}
      {cell(
        'memory',
        <>
          <Bar percent={memPct} label={t('gpu.memory')} />
          <span>{g.memory_total ? `${Math.round(memPct)}%` : '–'}</span>
        </>,
        `${formatMiB(g.memory_used)} / ${formatMiB(g.memory_total)}`,
      )}
      {cell('free', formatMiB(g.memory_free))}
      {cell('temp', temp == null ? '–' : <span className={`temp-text temp-${LEVEL_TAG_COLOR[temperatureLevel(temp)]}`}>{temp}°C</span>)}
      {cell('power', g.power_draw == null ? '–' : `${Math.round(g.power_draw)} W`)}
      {cell('users', users || '–', users || undefined)}
    </div>
  );
});

export interface GpuTableProps {
  rows: readonly GpuRow[];
  sort: SortKey;
  dir: SortDir;
  onSort: (key: SortKey) => void;
  /** The label of the table, for screen readers. */
  label: string;
}

/**
 * Every GPU as a row, sortable by its column headers, drawn only where the
 * window shows it (a virtual list scrolled by the page): eight thousand rows
 * cost what forty do.
 */
export function GpuTable({ rows, sort, dir, onSort, label }: GpuTableProps) {
  const { t } = useI18n();
  const { ref, margin } = useScrollMargin();
  const v = useWindowVirtualizer({ count: rows.length, estimateSize: () => GPU_ROW_HEIGHT, overscan: 12, scrollMargin: margin, useFlushSync: false });
  return (
    <div role="table" aria-label={label} aria-rowcount={rows.length + 1} className="gpu-table">
      <div role="rowgroup" className="gpu-table-head">
        <div role="row" aria-rowindex={1} className="gpu-row gpu-head-row">
          {COLUMNS.map((c) => (
            <div
              key={c.key}
              role="columnheader"
              className={`gpu-cell gpu-cell-${c.key}`}
              aria-sort={c.sort && c.sort === sort ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
            >
              {c.sort ? (
                <button type="button" className="sort-button" onClick={() => onSort(c.sort!)} data-testid={`sort-${c.sort}`}>
                  {t(c.title)}
                  {c.sort === sort ? dir === 'asc' ? <CaretUpOutlined /> : <CaretDownOutlined /> : null}
                </button>
              ) : (
                t(c.title)
              )}
            </div>
          ))}
        </div>
      </div>
      <div role="rowgroup" ref={ref} className="gpu-table-body" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => (
          <Row
            key={item.key}
            g={rows[item.index]}
            t={t}
            index={item.index}
            style={{ height: GPU_ROW_HEIGHT, transform: `translateY(${item.start - margin}px)` }}
          />
        ))}
      </div>
    </div>
  );
}
