import { Empty, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { Series } from '../api/types';
import { edgeRoom, formatValue, timeTicks, toChartRows, type ChartRow, type ValueKind } from '../lib/history';
import { useWidth } from './useWidth';

export interface HistoryChartProps {
  series: readonly Series[] | undefined;
  rangeSeconds: number;
  emptyText: string;
  emptyHint?: string;
  /** What the values are: their unit and precision. */
  kind: ValueKind;
  /** What the chart shows, for screen readers. */
  label: string;
  height?: number;
}

// Tableau 10: distinguishable lines in light and dark themes.
const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** Below this width the chart has no floating tooltip (it would cover the lines): the legend shows the values. */
const TOOLTIP_MIN_WIDTH = 480;
/** Lines listed in the tooltip; more are summed up as "+N". */
const TOOLTIP_LINES = 10;

const color = (i: number) => SERIES_COLORS[i % SERIES_COLORS.length];

/** The floating tooltip, in the theme's colours: the time and each line's value, highest first. */
function ChartTooltip({ active, payload, label, kind }: TooltipContentProps<number, string> & { kind: ValueKind }) {
  if (!active || !payload?.length) return null;
  const items = [...payload].filter((p) => p.value != null).sort((a, b) => Number(b.value) - Number(a.value));
  return (
    <div className="chart-tooltip">
      <div className="chart-tooltip-time">{dayjs(Number(label)).format('YYYY-MM-DD HH:mm:ss')}</div>
      {items.slice(0, TOOLTIP_LINES).map((p) => (
        <div key={String(p.dataKey)} className="chart-tooltip-row">
          <span className="swatch" style={{ background: p.color }} aria-hidden />
          <span className="chart-tooltip-name">{String(p.name)}</span>
          <span className="chart-tooltip-value">{formatValue(kind, Number(p.value))}</span>
        </div>
      ))}
      {items.length > TOOLTIP_LINES ? <div className="chart-tooltip-more">+{items.length - TOOLTIP_LINES}</div> : null}
    </div>
  );
}

/** Each line's name and value at the pointer, or the latest one: the legend, readable on a phone. */
function Readout({ names, row, kind, time }: { names: string[]; row: ChartRow | undefined; kind: ValueKind; time?: number }) {
  return (
    <div className="chart-readout" aria-live="off">
      {time != null ? <span className="chart-readout-time">{dayjs(time).format('HH:mm:ss')}</span> : null}
      {names.map((n, i) => (
        <span key={n} className="chart-readout-item">
          <span className="swatch" style={{ background: color(i) }} aria-hidden />
          <span>{n}</span> <strong>{formatValue(kind, row?.[n])}</strong>
        </span>
      ))}
    </div>
  );
}

/** A line per series over time. */
export default function HistoryChart({ series, rangeSeconds, emptyText, emptyHint, kind, label, height = 220 }: HistoryChartProps) {
  const { rows, names } = useMemo(() => toChartRows(series), [series]);
  const { ref, width } = useWidth();
  const [hover, setHover] = useState<number | null>(null);
  const first = rows[0]?.time ?? 0;
  const last = rows[rows.length - 1]?.time ?? 0;
  // A label is about 60 px ("HH:mm:ss" 75): room for one every 90 px.
  const axis = useMemo(() => timeTicks(first, last, Math.max(2, Math.floor((width - 70) / 90))), [first, last, width]);
  if (!rows.length) {
    return (
      <div ref={ref}>
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <>
            <div>{emptyText}</div>
            {emptyHint ? <Typography.Text type="secondary">{emptyHint}</Typography.Text> : null}
          </>
        }
        className="history-empty"
      />
      </div>
    );
  }
  const percent = kind === 'percent';
  const shown = hover != null ? rows[hover] : rows[rows.length - 1];
  const wide = width >= TOOLTIP_MIN_WIDTH;
  return (
    <div className="history-chart" ref={ref} role="figure" aria-label={label} data-range={rangeSeconds}>
      {width > 0 ? (
        <LineChart
          width={width}
          height={height}
          data={rows}
          margin={{ top: 8, right: edgeRoom(axis.format), bottom: 0, left: 0 }}
          onMouseMove={(s) => setHover(s.activeTooltipIndex == null ? null : Number(s.activeTooltipIndex))}
          onMouseLeave={() => setHover(null)}
        >
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
          <XAxis
            dataKey="time"
            type="number"
            domain={[first, last]}
            scale="time"
            ticks={axis.ticks}
            interval={0}
            tickFormatter={(v: number) => dayjs(v).format(axis.format)}
            tick={{ fill: 'var(--ant-color-text-secondary)' }}
          />
          <YAxis
            width={72}
            domain={percent ? [0, 100] : ['auto', 'auto']}
            tickFormatter={(v: number) => formatValue(kind, v)}
            tick={{ fill: 'var(--ant-color-text-secondary)' }}
          />
          {wide ? (
            <Tooltip content={(p) => <ChartTooltip {...(p as TooltipContentProps<number, string>)} kind={kind} />} isAnimationActive={false} wrapperStyle={{ zIndex: 5 }} />
          ) : (
            <Tooltip content={() => null} />
          )}
          {names.map((n, i) => (
            <Line key={n} type="monotone" dataKey={n} dot={false} stroke={color(i)} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      ) : (
        <div style={{ height }} />
      )}
      <Readout names={names} row={shown} kind={kind} time={hover != null ? shown?.time : undefined} />
    </div>
  );
}
