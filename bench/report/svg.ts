/**
 * Hand-written SVG charts (no chart library): line charts with linear or log axes, and grouped
 * bar charts. Enough to see the difference between engines at a glance.
 */
export interface Tick {
  value: number;
  label: string;
}

export interface Axis {
  label: string;
  scale: 'linear' | 'log';
  min: number;
  max: number;
  ticks: Tick[];
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const WIDTH = 760;
const HEIGHT = 340;
const MARGIN = { top: 36, right: 150, bottom: 48, left: 70 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function position(axis: Axis, value: number, length: number): number {
  if (axis.scale === 'log') {
    const lo = Math.log10(axis.min);
    const hi = Math.log10(axis.max);
    const v = Math.log10(Math.min(Math.max(value, axis.min), axis.max));
    return hi === lo ? 0 : ((v - lo) / (hi - lo)) * length;
  }
  const v = Math.min(Math.max(value, axis.min), axis.max);
  return axis.max === axis.min ? 0 : ((v - axis.min) / (axis.max - axis.min)) * length;
}

/** 1, 2, 5 × 10^n ticks covering [min, max] for a log axis. */
export function logTicks(min: number, max: number, format: (v: number) => string): Tick[] {
  const ticks: Tick[] = [];
  for (let exp = Math.floor(Math.log10(min)); exp <= Math.ceil(Math.log10(max)); exp++) {
    for (const m of [1, 2, 5]) {
      const value = m * 10 ** exp;
      if (value >= min * 0.999 && value <= max * 1.001) ticks.push({ value, label: format(value) });
    }
  }
  return ticks;
}

/** About `count` round ticks from 0 to max for a linear axis. */
export function linearTicks(max: number, count: number, format: (v: number) => string): { max: number; ticks: Tick[] } {
  if (max <= 0) return { max: 1, ticks: [{ value: 0, label: format(0) }] };
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const top = Math.ceil(max / step) * step;
  const ticks: Tick[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push({ value: v, label: format(v) });
  return { max: top, ticks };
}

function frame(title: string, x: Axis | null, y: Axis, body: string): string {
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<text x="${MARGIN.left}" y="20" font-size="14" font-weight="600">${escapeXml(title)}</text>`);
  parts.push(`<g transform="translate(${MARGIN.left},${MARGIN.top})">`);
  for (const tick of y.ticks) {
    const py = PLOT_H - position(y, tick.value, PLOT_H);
    parts.push(`<line x1="0" x2="${PLOT_W}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="-6" y="${(py + 4).toFixed(1)}" text-anchor="end" fill="#555">${escapeXml(tick.label)}</text>`);
  }
  if (x) {
    for (const tick of x.ticks) {
      const px = position(x, tick.value, PLOT_W);
      parts.push(`<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="0" y2="${PLOT_H}" stroke="#f0f0f0"/>`);
      parts.push(`<text x="${px.toFixed(1)}" y="${PLOT_H + 16}" text-anchor="middle" fill="#555">${escapeXml(tick.label)}</text>`);
    }
    parts.push(`<text x="${PLOT_W / 2}" y="${PLOT_H + 38}" text-anchor="middle" fill="#333">${escapeXml(x.label)}</text>`);
  }
  parts.push(`<text transform="translate(-52,${PLOT_H / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(y.label)}</text>`);
  parts.push(`<rect x="0" y="0" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`);
  parts.push(body);
  parts.push('</g></svg>');
  return parts.join('\n');
}

function legend(entries: { name: string; color: string }[]): string {
  return entries
    .map(
      (entry, i) =>
        `<rect x="${PLOT_W + 16}" y="${i * 20}" width="14" height="14" fill="${entry.color}"/>` +
        `<text x="${PLOT_W + 36}" y="${i * 20 + 11}">${escapeXml(entry.name)}</text>`,
    )
    .join('\n');
}

export function lineChart(title: string, x: Axis, y: Axis, series: Series[]): string {
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const d = s.points
        .map(([vx, vy], i) => `${i === 0 ? 'M' : 'L'}${position(x, vx, PLOT_W).toFixed(1)},${(PLOT_H - position(y, vy, PLOT_H)).toFixed(1)}`)
        .join(' ');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`;
    })
    .join('\n');
  return frame(title, x, y, lines + legend(series));
}

export interface BarGroup {
  label: string;
  bars: { name: string; color: string; value: number; note?: string }[];
}

export function barChart(title: string, y: Axis, groups: BarGroup[]): string {
  const groupWidth = PLOT_W / Math.max(1, groups.length);
  const parts: string[] = [];
  const names = new Map<string, string>();
  groups.forEach((group, gi) => {
    const barWidth = Math.min(60, (groupWidth * 0.8) / Math.max(1, group.bars.length));
    const start = gi * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, bi) => {
      names.set(bar.name, bar.color);
      const h = bar.value > 0 ? position(y, bar.value, PLOT_H) : 0;
      const bx = start + bi * barWidth;
      parts.push(`<rect x="${bx.toFixed(1)}" y="${(PLOT_H - h).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${bar.color}"/>`);
      const text = bar.note ?? '';
      if (text) {
        parts.push(`<text x="${(bx + (barWidth - 4) / 2).toFixed(1)}" y="${(PLOT_H - h - 4).toFixed(1)}" text-anchor="middle" font-size="11">${escapeXml(text)}</text>`);
      }
    });
    parts.push(`<text x="${(gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${PLOT_H + 16}" text-anchor="middle" fill="#333">${escapeXml(group.label)}</text>`);
  });
  return frame(title, null, y, parts.join('\n') + legend([...names].map(([name, color]) => ({ name, color }))));
}
