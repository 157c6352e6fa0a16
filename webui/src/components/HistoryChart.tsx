import { Empty, Typography } from 'antd';
import dayjs from 'dayjs';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Series } from '../api/types';
import { toChartRows } from '../lib/history';

export interface HistoryChartProps {
  series: readonly Series[] | undefined;
  rangeSeconds: number;
  emptyText: string;
  emptyHint?: string;
  unit?: string;
  height?: number;
}

// Tableau 10: distinguishable lines in light and dark themes.
const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** A line per series over time. */
export default function HistoryChart({ series, rangeSeconds, emptyText, emptyHint, unit = '', height = 220 }: HistoryChartProps) {
  const { rows, names } = toChartRows(series);
  if (!rows.length) {
    return (
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
    );
  }
  const span = (rows[rows.length - 1].time - rows[0].time) / 1000;
  const fmt = rangeSeconds > 86400 && span > 86400 ? 'MM-DD HH:mm' : span < 600 ? 'HH:mm:ss' : 'HH:mm';
  const percent = unit === '%';
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
        <XAxis dataKey="time" type="number" domain={['dataMin', 'dataMax']} scale="time" tickFormatter={(v: number) => dayjs(v).format(fmt)} />
        <YAxis width={52} domain={percent ? [0, 100] : ['auto', 'auto']} tickFormatter={(v: number) => `${Math.round(v * 10) / 10}${unit}`} />
        <Tooltip labelFormatter={(v) => dayjs(Number(v)).format('YYYY-MM-DD HH:mm:ss')} />
        {names.length > 1 ? <Legend /> : null}
        {names.map((n, i) => (
          <Line key={n} type="monotone" dataKey={n} dot={false} stroke={SERIES_COLORS[i % SERIES_COLORS.length]} isAnimationActive={false} connectNulls />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
