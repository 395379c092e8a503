/**
 * Throughput against concurrency as a self-contained SVG (no charting library): one panel per
 * link (loopback, WAN stand-in), one line per configuration, concurrency levels evenly spaced.
 */

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  /** One value per x category; NaN leaves a gap. */
  values: number[];
}

export interface Panel {
  title: string;
  categories: string[];
  series: Series[];
  /** This panel's own y axis label (with ChartOptions.independentY). */
  yLabel?: string;
  /** Tooltip unit after the value (default "/s"). */
  unit?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  panels: Panel[];
  panelWidth?: number;
  height?: number;
  /** Each panel scales its own y axis (panels of different quantities); default one shared scale. */
  independentY?: boolean;
  /** What the x categories are, in tooltips (default "clients"). */
  xUnit?: string;
}

export function chart(o: ChartOptions): string {
  const panelWidth = o.panelWidth ?? 430;
  const height = o.height ?? 430;
  const width = panelWidth * o.panels.length;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ];
  // One y scale for all panels, so their heights compare (unless they show different quantities).
  const scale = (panels: Panel[]) => {
    const max = Math.max(1, ...panels.flatMap((p) => p.series.flatMap((s) => s.values.filter(Number.isFinite))));
    const step = niceStep(max / 5);
    return { top: Math.ceil((max * 1.05) / step) * step, step };
  };
  const shared = scale(o.panels);
  o.panels.forEach((p, i) => {
    const { top, step } = o.independentY ? scale([p]) : shared;
    parts.push(panel(p, i * panelWidth, panelWidth, height, top, step, o));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function panel(p: Panel, left: number, width: number, height: number, top: number, step: number, o: ChartOptions): string {
  const m = { top: 64, right: 16, bottom: 150, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const x = (i: number) => left + m.left + (p.categories.length === 1 ? plotW / 2 : (i * plotW) / (p.categories.length - 1));
  const y = (v: number) => m.top + plotH - (v / top) * plotH;
  const out: string[] = [`<text x="${left + m.left}" y="50" font-size="13" font-weight="bold">${esc(p.title)}</text>`];
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${left + m.left}" x2="${left + m.left + plotW}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${left + m.left - 8}" y="${f(y(v) + 4)}" text-anchor="end" fill="#444">${v}</text>`);
  }
  p.categories.forEach((c, i) => {
    out.push(`<line x1="${f(x(i))}" x2="${f(x(i))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#444"/>`);
    out.push(`<text x="${f(x(i))}" y="${m.top + plotH + 20}" text-anchor="middle" fill="#444">${esc(c)}</text>`);
  });
  out.push(`<line x1="${left + m.left}" x2="${left + m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#444"/>`);
  out.push(`<line x1="${left + m.left}" x2="${left + m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#444"/>`);
  out.push(`<text x="${left + m.left + plotW / 2}" y="${m.top + plotH + 40}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(${left + 16} ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel ?? o.yLabel)}</text>`);
  p.series.forEach((s, k) => {
    const points = s.values.map((v, i) => (Number.isFinite(v) ? `${f(x(i))},${f(y(v))}` : '')).filter(Boolean);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${dash} points="${points.join(' ')}"/>`);
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      out.push(`<circle cx="${f(x(i))}" cy="${f(y(v))}" r="4" fill="${s.color}"><title>${esc(`${s.label}, ${p.categories[i]} ${o.xUnit ?? 'clients'}: ${Math.round(v)}${p.unit ?? '/s'}`)}</title></circle>`);
    });
    const ly = m.top + plotH + 62 + k * 18;
    const lx = left + m.left;
    out.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
    out.push(`<text x="${lx + 32}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const n = raw / power;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * power;
}

const f = (n: number) => n.toFixed(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
