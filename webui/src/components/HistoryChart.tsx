import { Empty, Typography } from 'antd';
import dayjs from 'dayjs';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Series } from '../api/types';
import { hostColor } from '../lib/colors';
import { toChartRows } from '../lib/history';

export interface HistoryChartProps {
  series: readonly Series[] | undefined;
  rangeSeconds: number;
  emptyText: string;
  emptyHint?: string;
  unit?: string;
  height?: number;
}

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
  const fmt = rangeSeconds > 86400 ? 'MM-DD HH:mm' : 'HH:mm';
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
        <XAxis dataKey="time" type="number" domain={['dataMin', 'dataMax']} scale="time" tickFormatter={(v: number) => dayjs(v).format(fmt)} />
        <YAxis width={48} tickFormatter={(v: number) => `${v}${unit}`} />
        <Tooltip labelFormatter={(v) => dayjs(Number(v)).format('YYYY-MM-DD HH:mm:ss')} />
        {names.length > 1 ? <Legend /> : null}
        {names.map((n) => (
          <Line key={n} type="monotone" dataKey={n} dot={false} stroke={hostColor(n)} isAnimationActive={false} connectNulls />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
