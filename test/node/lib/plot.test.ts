// The server-side plots (src/lib/plot.ts) and the word diff of notice versions (src/lib/diff.ts).
import { describe, expect, it } from 'vitest'
import { wordDiff } from '../../../src/lib/diff.ts'
import { renderView } from '../../../src/lib/views.ts'
import { horizontalBars, niceMax, plot } from '../../../src/lib/plot.ts'

const days = ['11-27', '11-28', '11-29']
const input = (values: number[][]) => ({
  id: 'p',
  title: 'Title',
  description: 'What it shows',
  xName: 'Day',
  x: days,
  xFull: days.map((d) => `2026-${d}`),
  series: values.map((v, i) => ({ label: `s${i}`, values: v })),
  kind: 'stacked' as const,
  emptyText: 'No data yet',
  totalName: 'Total',
})

describe('plots', () => {
  it('an empty plot still draws its frame and says there is no data yet', () => {
    const p = plot(input([[0, 0, 0]]))
    expect(p.empty).toBe(true)
    expect(p.paths).toEqual([])
    const svg = renderView('admin/plot', { ...p, locale: 'en' })
    expect(svg).toContain('<svg viewBox="0 0 640 220" role="img"')
    expect(svg).toContain('>No data yet</text>')
    expect(svg).toContain('<p>No data yet</p>') // the table's place says it too
  })

  it('stacks bars per day, scales to a round maximum, and gives every non-empty day in the table', () => {
    const p = plot(
      input([
        [1, 0, 3],
        [2, 0, 4],
      ]),
    )
    expect(p.empty).toBe(false)
    expect(p.yTicks.map((t) => t.label)).toEqual(['0', '5', '10'])
    expect(p.paths).toHaveLength(2)
    expect(p.paths[1]!.d.match(/M/g)).toHaveLength(2) // no bar for an empty day
    expect(p.table).toEqual({
      head: ['Day', 's0', 's1', 'Total'],
      rows: [
        { x: '2026-11-27', cells: [1, 2, 3] },
        { x: '2026-11-29', cells: [3, 4, 7] },
      ],
    })
    expect(p.legend.map((l) => l.total)).toEqual([4, 6])
    const html = renderView('admin/plot', { ...p, locale: 'en' })
    expect(html).toContain('<th scope="row">2026-11-29</th><td>3</td><td>4</td><td>7</td>')
    expect(html).toContain('aria-labelledby="p-title p-desc"')
  })

  it('rounds axis maxima to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 10, 11, 240, 5001].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 500, 10000])
  })

  it('horizontal bars say when there is nothing to show', () => {
    const empty = horizontalBars({
      id: 'b',
      title: 'T',
      description: 'D',
      emptyText: 'No data yet',
      rows: [],
    })
    expect(renderView('admin/bars', { ...empty, locale: 'en' })).toContain('>No data yet</text>')
    const one = horizontalBars({
      id: 'b',
      title: 'T',
      description: 'D',
      emptyText: '-',
      rows: [{ label: 'newsletter · form:home', fraction: 0.5, value: '50 %' }],
    })
    expect(one.bars[0]!.w).toBeCloseTo((640 - 200 - 70) / 2)
  })
})

describe('word diff', () => {
  it('marks the words added and removed, keeping the rest', () => {
    expect(wordDiff('News once a week.', 'News once a month.')).toEqual([
      { text: 'News once a ', op: 'same' },
      { text: 'week.', op: 'removed' },
      { text: 'month.', op: 'added' },
    ])
    expect(wordDiff('', 'New')).toEqual([{ text: 'New', op: 'added' }])
    expect(wordDiff('Same', 'Same')).toEqual([{ text: 'Same', op: 'same' }])
  })
})
