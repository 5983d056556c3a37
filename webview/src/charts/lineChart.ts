// Line and bar charts on <canvas>, in the theme's colours, sharp on high-DPI screens. Each chart
// carries a text alternative (its current values) for screen readers.
import { chartColors, type ChartColors } from '../theme.js';
import { Y_TICKS, backingSize, formatTick, linearScale, niceTicks, yDomain } from './scale.js';

export interface LineSeries {
  label: string;
  values: (number | null)[];
  /** Index into the theme's series colours, or a colour name from ChartColors. */
  color?: number | 'red' | 'yellow' | 'green';
  dashed?: boolean;
}

export interface LineChartData {
  times: number[];
  series: LineSeries[];
  /** Window shown, ending at the last time. */
  windowMs: number;
  unit?: string;
  /** Fixed y maximum (e.g. 1 for ratios). */
  yMax?: number;
}

export interface BarChartData {
  labels: string[];
  values: number[];
  unit?: string;
}

const PAD = { left: 38, right: 8, top: 8, bottom: 18 };

/** How every chart is drawn: compact in the sidebar; taller, with an HTML legend, on the dashboard. */
const look = { height: 120, legends: false };

export function configureCharts(options: { height: number; legends: boolean }): void {
  look.height = options.height;
  look.legends = options.legends;
}

export interface LegendEntry {
  label: string;
  color: string;
  dashed?: boolean;
}

/** Creates a canvas that redraws itself on resize; `draw` is called with the latest data. */
export class Chart<T> {
  readonly canvas = document.createElement('canvas');
  /** The series' names and colours, under the chart (dashboard only). */
  readonly legend = document.createElement('ul');
  private data: T | undefined;
  private readonly observer: ResizeObserver;

  constructor(
    private readonly paint: (ctx: CanvasRenderingContext2D, w: number, h: number, data: T, colors: ChartColors) => void,
    label: string,
    private readonly legendOf?: (data: T, colors: ChartColors) => LegendEntry[],
  ) {
    this.canvas.className = 'chart';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.canvas.dataset.chart = label;
    this.canvas.style.height = `${look.height}px`;
    this.legend.className = 'chart-legend';
    this.legend.setAttribute('aria-hidden', 'true'); // the canvas's label carries the values
    this.observer = new ResizeObserver(() => this.redraw());
    this.observer.observe(this.canvas);
  }

  update(data: T): void {
    this.data = data;
    this.redraw();
  }

  redraw(): void {
    const height = look.height;
    if (this.canvas.style.height !== `${height}px`) this.canvas.style.height = `${height}px`;
    if (this.data && this.legendOf) this.drawLegend(this.data);
    const windowMs = (this.data as { windowMs?: unknown } | undefined)?.windowMs;
    if (typeof windowMs === 'number') this.canvas.dataset.windowMs = String(windowMs);
    const w = this.canvas.clientWidth;
    if (!this.data || w === 0) return;
    const size = backingSize(w, height, window.devicePixelRatio);
    if (this.canvas.width !== size.width || this.canvas.height !== size.height) {
      this.canvas.width = size.width;
      this.canvas.height = size.height;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(size.scale, 0, 0, size.scale, 0, 0);
    ctx.clearRect(0, 0, w, height);
    this.paint(ctx, w, height, this.data, chartColors());
  }

  /** The legend sits right after the canvas, wherever a section placed it. */
  private drawLegend(data: T): void {
    if (!look.legends) {
      this.legend.remove();
      return;
    }
    if (this.canvas.parentElement && this.canvas.nextElementSibling !== this.legend) this.canvas.after(this.legend);
    this.legend.hidden = this.canvas.hidden;
    const entries = this.legendOf!(data, chartColors());
    const key = entries.map((e) => `${e.label}\u0000${e.color}\u0000${e.dashed ? 1 : 0}`).join('\u0001');
    if (this.legend.dataset.key === key) return;
    this.legend.dataset.key = key;
    this.legend.replaceChildren(
      ...entries.map((e) => {
        const swatch = document.createElement('span');
        swatch.className = e.dashed ? 'swatch dashed' : 'swatch';
        swatch.style.borderColor = e.color;
        const li = document.createElement('li');
        li.append(swatch, e.label);
        return li;
      }),
    );
  }

  /** The legend's labels (what the dashboard shows under the chart). */
  legendLabels(): string[] {
    return look.legends && this.legend.isConnected ? [...this.legend.children].map((li) => li.textContent ?? '') : [];
  }

  dispose(): void {
    this.observer.disconnect();
  }
}

function colorOf(c: LineSeries['color'], i: number, colors: ChartColors): string {
  if (c === 'red' || c === 'yellow' || c === 'green') return colors[c];
  return colors.series[(c ?? i) % colors.series.length]!;
}

/** Horizontal grid lines at nice ticks, labelled on the left; leaves the muted fill style set. */
function drawYGrid(ctx: CanvasRenderingContext2D, w: number, lo: number, hi: number, y: (v: number) => number, colors: ChartColors): void {
  ctx.font = colors.font;
  ctx.lineWidth = 1;
  ctx.strokeStyle = colors.grid;
  ctx.fillStyle = colors.muted;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const t of niceTicks(lo, hi, Y_TICKS)) {
    const py = Math.round(y(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(PAD.left, py);
    ctx.lineTo(w - PAD.right, py);
    ctx.stroke();
    ctx.fillText(formatTick(t), PAD.left - 4, py);
  }
}

export function paintLines(ctx: CanvasRenderingContext2D, w: number, h: number, d: LineChartData, colors: ChartColors): void {
  const end = d.times[d.times.length - 1] ?? Date.now();
  const x = linearScale([end - d.windowMs, end], [PAD.left, w - PAD.right]);
  const [lo, hi] = d.yMax !== undefined ? [0, d.yMax] : yDomain(d.series.flatMap((s) => s.values));
  const y = linearScale([lo, hi], [h - PAD.bottom, PAD.top]);
  drawYGrid(ctx, w, lo, hi, y, colors);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(d.windowMs >= 120_000 ? `−${Math.round(d.windowMs / 60_000)} min` : `−${Math.round(d.windowMs / 1000)} s`, PAD.left, h - 4);
  ctx.textAlign = 'right';
  ctx.fillText('now', w - PAD.right, h - 4);
  d.series.forEach((s, i) => {
    ctx.strokeStyle = colorOf(s.color, i, colors);
    ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dashed ? [4, 3] : []);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath();
    let pen = false;
    s.values.forEach((v, j) => {
      const t = d.times[j]!;
      if (v === null || t < end - d.windowMs) {
        pen = false;
        return;
      }
      const px = x(t);
      const py = y(Math.min(v, hi));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      // A value with no neighbour would draw nothing as a line: mark it with a dot.
      if (!pen && (s.values[j + 1] ?? null) === null) ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
      pen = true;
    });
    ctx.stroke();
  });
  ctx.setLineDash([]);
}

export function paintBars(ctx: CanvasRenderingContext2D, w: number, h: number, d: BarChartData, colors: ChartColors): void {
  const [, hi] = yDomain(d.values);
  const y = linearScale([0, hi], [h - PAD.bottom, PAD.top]);
  const slot = (w - PAD.left - PAD.right) / Math.max(1, d.values.length);
  drawYGrid(ctx, w, 0, hi, y, colors);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  d.values.forEach((v, i) => {
    const x0 = PAD.left + i * slot;
    ctx.fillStyle = colors.series[0]!;
    ctx.fillRect(x0 + slot * 0.15, y(v), slot * 0.7, h - PAD.bottom - y(v));
    ctx.fillStyle = colors.muted;
    ctx.fillText(d.labels[i]!, x0 + slot / 2, h - 4);
  });
}

export const lineChart = (label: string) =>
  new Chart<LineChartData>(paintLines, label, (d, colors) => d.series.map((s, i) => ({ label: s.label, color: colorOf(s.color, i, colors), ...(s.dashed ? { dashed: true } : {}) })));
export const barChart = (label: string) => new Chart<BarChartData>(paintBars, label);
