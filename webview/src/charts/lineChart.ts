// Line and bar charts on <canvas>, in the theme's colours, sharp on high-DPI screens. Each chart
// carries a text alternative (its current values) for screen readers. A line chart can be made
// pickable: a click on it, or Enter on the point chosen with the arrow keys, names that point's
// time (the latency chart opens the slowest requests of that second).
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
  /** A point chosen with the keyboard: a vertical line at this time. */
  cursor?: number;
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

/** The x scale of a line chart `w` pixels wide: times in the window to pixels. */
function timeScale(d: LineChartData, w: number) {
  const end = d.times[d.times.length - 1] ?? Date.now();
  return linearScale([end - d.windowMs, end], [PAD.left, w - PAD.right]);
}

/** The index of the point with a value (in any series) nearest to `time` within the window; -1 if none. */
export function nearestPoint(d: LineChartData, time: number): number {
  const end = d.times[d.times.length - 1] ?? 0;
  let best = -1;
  d.times.forEach((t, j) => {
    if (t < end - d.windowMs || !d.series.some((s) => (s.values[j] ?? null) !== null)) return;
    if (best < 0 || Math.abs(t - time) < Math.abs(d.times[best]! - time)) best = j;
  });
  return best;
}

/** The first or last point with a value inside the window; -1 if none. */
export function edgePoint(d: LineChartData, edge: 'first' | 'last'): number {
  const found = edge === 'first' ? stepPoint(d, -1, 1) : stepPoint(d, d.times.length, -1);
  return found === -1 || found === d.times.length ? -1 : found;
}

/** The next point with a value from index `from`, `step` points at a time (±1); `from` itself if there is none. */
export function stepPoint(d: LineChartData, from: number, step: 1 | -1): number {
  const end = d.times[d.times.length - 1] ?? 0;
  for (let j = from + step; j >= 0 && j < d.times.length; j += step) {
    if (d.times[j]! >= end - d.windowMs && d.series.some((s) => (s.values[j] ?? null) !== null)) return j;
  }
  return from;
}

/**
 * A line chart whose points can be picked: a click picks the point nearest the pointer; the
 * keyboard (the canvas takes focus) moves a cursor with ←/→ (Home/End: the first/last point) and
 * picks it with Enter or Space. `onPick` gets the point's time.
 */
export class LineChart extends Chart<LineChartData> {
  private cursor = -1;
  private picks: ((time: number) => void) | undefined;
  private latest: LineChartData | undefined;

  constructor(label: string) {
    super(paintLines, label, (d, colors) => d.series.map((s, i) => ({ label: s.label, color: colorOf(s.color, i, colors), ...(s.dashed ? { dashed: true } : {}) })));
    charts.set(this.canvas, this);
  }

  override update(data: LineChartData): void {
    this.latest = data;
    const cursor = this.cursor >= 0 && this.cursor < data.times.length && document.activeElement === this.canvas ? data.times[this.cursor] : undefined;
    super.update(cursor === undefined ? data : { ...data, cursor });
  }

  /** `hint` ends the chart's label: what picking does. */
  pickable(onPick: (time: number) => void, hint: string): void {
    this.picks = onPick;
    this.canvas.tabIndex = 0;
    this.canvas.classList.add('pickable');
    this.canvas.setAttribute('role', 'button');
    this.canvas.setAttribute('aria-description', hint);
    this.canvas.title = hint;
    this.canvas.addEventListener('click', (e) => this.pickAt(e.clientX));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('blur', () => this.latest && this.update(this.latest));
  }

  /** The client x of `time` on the canvas now (tests click there). */
  clientXOf(time: number): number {
    const w = this.canvas.clientWidth;
    return this.canvas.getBoundingClientRect().left + (this.latest ? timeScale(this.latest, w)(time) : 0);
  }

  private pickAt(clientX: number): void {
    const d = this.latest;
    if (!d || !this.picks) return;
    const x = timeScale(d, this.canvas.clientWidth);
    const [t0, t1] = x.domain;
    const [p0, p1] = x.range;
    const time = t0 + ((clientX - this.canvas.getBoundingClientRect().left - p0) / (p1 - p0 || 1)) * (t1 - t0);
    const j = nearestPoint(d, time);
    if (j >= 0) this.picks(d.times[j]!);
  }

  private key(e: KeyboardEvent): void {
    const d = this.latest;
    if (!d || !this.picks) return;
    const last = edgePoint(d, 'last');
    if (last < 0) return;
    const current = this.cursor >= 0 && this.cursor < d.times.length ? this.cursor : last;
    let next = current;
    switch (e.key) {
      case 'ArrowLeft':
        next = this.cursor < 0 ? last : stepPoint(d, current, -1);
        break;
      case 'ArrowRight':
        next = this.cursor < 0 ? last : stepPoint(d, current, 1);
        break;
      case 'Home':
        next = edgePoint(d, 'first');
        break;
      case 'End':
        next = last;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.cursor = current;
        this.picks(d.times[current]!);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.cursor = next;
    this.canvas.setAttribute('aria-valuetext', new Date(d.times[next]!).toLocaleTimeString());
    this.update(d);
  }
}

const charts = new WeakMap<HTMLCanvasElement, LineChart>();

/** The pickable line chart drawn on `canvas` (tests find a chart by its canvas). */
export function lineChartOf(canvas: HTMLCanvasElement): LineChart | undefined {
  return charts.get(canvas);
}

export function paintLines(ctx: CanvasRenderingContext2D, w: number, h: number, d: LineChartData, colors: ChartColors): void {
  const end = d.times[d.times.length - 1] ?? Date.now();
  const x = timeScale(d, w);
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
  if (d.cursor !== undefined && d.cursor >= end - d.windowMs) {
    ctx.strokeStyle = colors.muted;
    ctx.lineWidth = 1;
    const px = Math.round(x(d.cursor)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, PAD.top);
    ctx.lineTo(px, h - PAD.bottom);
    ctx.stroke();
  }
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

export const lineChart = (label: string) => new LineChart(label);
export const barChart = (label: string) => new Chart<BarChartData>(paintBars, label);
