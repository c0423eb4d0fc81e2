/**
 * @module Plots drawn on the server as SVG geometry for views/admin/plot.hbs: no script, no client
 * library, nothing from other hosts. A plot carries its title, a description and its numbers as a
 * table (what a screen reader reads, and what anyone can copy); an empty one still draws its frame
 * and says so. Each series is one `<path>` (bars or a line), so a plot of 90 days stays a few elements.
 */

export interface Series {
  label: string
  /** One value per x label (a day), same length as `x`. */
  values: number[]
}

export interface PlotInput {
  id: string
  title: string
  description: string
  /** What the table's first column holds (e.g. "Day"). */
  xName: string
  /** The axis labels, one per point. */
  x: string[]
  /** The same points as the table names them, when fuller than the axis labels (a date). */
  xFull?: string[]
  series: Series[]
  /** Bars stacked per x (counts of parts of one whole), or one line per series. */
  kind: 'stacked' | 'lines'
  emptyText: string
  /** The label of the table's total column, when there is one. */
  totalName?: string
}

export interface PlotView {
  id: string
  title: string
  description: string
  width: number
  height: number
  empty: boolean
  emptyText: string
  emptyX: number
  emptyY: number
  frame: string
  paths: { d: string; cls: string; label: string; line: boolean }[]
  yTicks: { y: number; label: string; lineY: number }[]
  xTicks: { x: number; label: string }[]
  legend: { label: string; cls: string; total: number }[]
  table: { head: string[]; rows: { x: string; cells: number[] }[] }
}

const W = 640
const H = 220
const M = { left: 44, right: 8, top: 10, bottom: 26 }
/** Classes of the series in order (colours in views/assets/admin-console.css), then they repeat. */
const SERIES_CLASSES = ['s0', 's1', 's2', 's3', 's4', 's5']

const r1 = (n: number) => Math.round(n * 10) / 10

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(max))
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p
  return 10 * p
}

export function plot(input: PlotInput): PlotView {
  const n = input.x.length
  const innerW = W - M.left - M.right
  const innerH = H - M.top - M.bottom
  const totals = input.x.map((_, i) => input.series.reduce((a, s) => a + (s.values[i] ?? 0), 0))
  const peak =
    input.kind === 'stacked'
      ? Math.max(0, ...totals)
      : Math.max(0, ...input.series.flatMap((s) => s.values))
  const empty = totals.every((t) => t === 0)
  // Counts: at least 0, 1, 2 on the axis, never a half.
  const top = Math.max(2, niceMax(peak))
  const y = (v: number) => r1(M.top + innerH - (v / top) * innerH)
  const step = n > 0 ? innerW / n : innerW
  const paths: PlotView['paths'] = []
  if (!empty) {
    const base = new Array<number>(n).fill(0)
    input.series.forEach((s, k) => {
      const cls = SERIES_CLASSES[k % SERIES_CLASSES.length]!
      let d = ''
      if (input.kind === 'stacked') {
        const bw = r1(Math.max(1, step * 0.8))
        for (let i = 0; i < n; i++) {
          const v = s.values[i] ?? 0
          if (v <= 0) continue
          const x0 = r1(M.left + i * step + step * 0.1)
          const y1 = y(base[i]!)
          const y0 = y(base[i]! + v)
          d += `M${x0} ${y1}V${y0}h${bw}V${y1}z`
          base[i]! += v
        }
      } else {
        for (let i = 0; i < n; i++)
          d += `${i === 0 ? 'M' : 'L'}${r1(M.left + i * step + step / 2)} ${y(s.values[i] ?? 0)}`
      }
      if (d) paths.push({ d, cls, label: s.label, line: input.kind === 'lines' })
    })
  }
  const yTicks = [0, 0.5, 1].map((f) => ({
    y: y(top * f) + 4,
    lineY: y(top * f),
    label: empty ? '' : String(Math.round(top * f)),
  }))
  // About six labels along x: every `every`-th, and the last (the one before it dropped if too close).
  const every = Math.max(1, Math.ceil(n / 6))
  const at: number[] = []
  for (let i = 0; i < n; i += every) at.push(i)
  if (n > 0 && at.at(-1) !== n - 1) {
    if (n - 1 - at.at(-1)! < every / 2) at.pop()
    at.push(n - 1)
  }
  const xTicks = at.map((i) => ({ x: r1(M.left + i * step + step / 2), label: input.x[i]! }))
  const withTotal = input.totalName !== undefined && input.series.length > 1
  return {
    id: input.id,
    title: input.title,
    description: input.description,
    width: W,
    height: H,
    empty,
    emptyText: input.emptyText,
    emptyX: r1(M.left + innerW / 2),
    emptyY: r1(M.top + innerH / 2),
    frame: `M${M.left} ${M.top}V${M.top + innerH}H${W - M.right}`,
    paths,
    yTicks,
    xTicks,
    legend: input.series.map((s, k) => ({
      label: s.label,
      cls: SERIES_CLASSES[k % SERIES_CLASSES.length]!,
      total: s.values.reduce((a, b) => a + b, 0),
    })),
    table: {
      head: [
        input.xName,
        ...input.series.map((s) => s.label),
        ...(withTotal ? [input.totalName!] : []),
      ],
      // Rows with something to show: a day without any event adds nothing to read.
      rows: input.x.flatMap((x, i) =>
        totals[i] === 0
          ? []
          : [
              {
                x: input.xFull?.[i] ?? x,
                cells: [
                  ...input.series.map((s) => s.values[i] ?? 0),
                  ...(withTotal ? [totals[i]!] : []),
                ],
              },
            ],
      ),
    },
  }
}

/** Horizontal bars, one per row (a rate per purpose and source), each with its value as text. */
export interface BarsView {
  id: string
  title: string
  description: string
  width: number
  height: number
  empty: boolean
  emptyText: string
  bars: { y: number; w: number; label: string; labelY: number; value: string; valueX: number }[]
}

export function horizontalBars(input: {
  id: string
  title: string
  description: string
  emptyText: string
  rows: { label: string; fraction: number; value: string }[]
}): BarsView {
  const rowH = 28
  const height = Math.max(60, input.rows.length * rowH + 10)
  const x0 = 200
  const maxW = W - x0 - 70
  return {
    id: input.id,
    title: input.title,
    description: input.description,
    width: W,
    height,
    empty: input.rows.length === 0,
    emptyText: input.emptyText,
    bars: input.rows.map((r, i) => {
      const w = r1(Math.max(0, Math.min(1, r.fraction)) * maxW)
      return {
        y: 6 + i * rowH,
        w,
        label: r.label.length > 30 ? `${r.label.slice(0, 29)}…` : r.label,
        labelY: 6 + i * rowH + 15,
        value: r.value,
        valueX: r1(x0 + w + 6),
      }
    }),
  }
}
