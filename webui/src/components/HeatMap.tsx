import { useEffect, useRef, useState } from 'react';
import type { GpuRow } from '../api/types';
import { cellSize, heat, heatColor, type HeatMetric } from '../lib/overview';
import { useWidth } from './useWidth';

export interface HeatMapProps {
  rows: readonly GpuRow[];
  metric: HeatMetric;
  /** What the map shows, for screen readers (the table below holds the same GPUs as text). */
  label: string;
  /** One line about a GPU, shown while the pointer is on its cell. */
  describe: (g: GpuRow) => string;
  onPick: (g: GpuRow) => void;
  maxHeight?: number;
}

/**
 * One cell per GPU, coloured by the metric, in the order of the rows: a
 * thousand machines' GPUs on one screen. Drawn on a canvas (a few thousand
 * elements would cost more than the whole page); the table below it is the
 * same data as text.
 */
export function HeatMap({ rows, metric, label, describe, onPick, maxHeight = 360 }: HeatMapProps) {
  const { ref, width } = useWidth();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const side = cellSize(rows.length, width, maxHeight);
  const perRow = Math.max(1, Math.floor(width / side));
  const height = Math.ceil(rows.length / perRow) * side;

  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const unknown = getComputedStyle(c).getPropertyValue('--ant-color-fill-secondary').trim() || 'rgba(128,128,128,0.3)';
    const gap = side > 6 ? 1 : 0;
    rows.forEach((g, i) => {
      const h = heat(g, metric);
      ctx.fillStyle = h == null ? unknown : heatColor(h);
      ctx.fillRect((i % perRow) * side, Math.floor(i / perRow) * side, side - gap, side - gap);
    });
  }, [rows, metric, width, height, side, perRow]);

  const at = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const i = Math.floor(y / side) * perRow + Math.floor(x / side);
    return x >= 0 && x < perRow * side && i >= 0 && i < rows.length ? { i, x, y } : null;
  };
  const shown = hover ? rows[hover.i] : undefined;
  return (
    <div className="heat-map" ref={ref}>
      <canvas
        ref={canvas}
        role="img"
        aria-label={label}
        style={{ width, height }}
        onMouseMove={(e) => setHover(at(e))}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => {
          const h = at(e);
          if (h) onPick(rows[h.i]);
        }}
        data-testid="heat-map"
        data-cells={rows.length}
      />
      {hover && shown ? (
        <div className="chart-tooltip heat-tooltip" style={{ left: Math.min(hover.x + 12, Math.max(0, width - 280)), top: hover.y + 14 }}>
          {describe(shown)}
        </div>
      ) : null}
    </div>
  );
}
