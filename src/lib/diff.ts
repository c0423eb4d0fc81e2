/**
 * @module What changed between two wordings, word by word (a longest common subsequence over words and
 * the spaces between them): how staff see what a new notice version changes before publishing it.
 */

export interface DiffPart {
  text: string
  op: 'same' | 'added' | 'removed'
}

const tokens = (s: string) => s.match(/\s+|[^\s]+/g) ?? []

/** The parts of `after` and `before`, in reading order; neighbouring parts of one kind are joined. */
export function wordDiff(before: string, after: string): DiffPart[] {
  const a = tokens(before)
  const b = tokens(after)
  const n = a.length
  const m = b.length
  // lcs[i * (m + 1) + j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
  const parts: DiffPart[] = []
  const push = (text: string, op: DiffPart['op']) => {
    const last = parts.at(-1)
    if (last?.op === op) last.text += text
    else parts.push({ text, op })
  }
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      push(a[i]!, 'same')
      i++
      j++
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) push(a[i++]!, 'removed')
    else push(b[j++]!, 'added')
  }
  while (i < n) push(a[i++]!, 'removed')
  while (j < m) push(b[j++]!, 'added')
  return parts
}
