/**
 * @module Text of a relayed part, decoded by the WHATWG encoding its charset label names (the
 * Encoding Standard: `iso-8859-1`, `us-ascii`, `latin1` and `cp1252` all name windows-1252, as mail
 * clients read them). Node 20's TextDecoder reads windows-1252 as Latin-1 (0x80–0x9F become C1
 * control characters, so “quotes” and € are lost), so that one encoding is decoded here from its
 * table. Decoding is strict: bytes the encoding has no character for make the part unreadable
 * (null), never U+FFFD, so a rewrite cannot replace a byte it did not understand.
 */

/** windows-1252 0x80–0x9F (encoding.spec.whatwg.org/index-windows-1252.txt); the rest is Latin-1. */
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
]

/** The WHATWG encoding a label names, or null when it names none. */
export function encodingOf(label: string): string | null {
  try {
    return new TextDecoder(label.trim()).encoding
  } catch {
    return null
  }
}

/**
 * The text of `bytes` in the encoding `label` names (UTF-8 when none). A BOM is kept as U+FEFF:
 * nothing of the body is dropped.
 * @returns null when the label names no encoding, or a byte has no character in it.
 */
export function decodeText(bytes: Uint8Array, label: string | false): string | null {
  const encoding = encodingOf(label || 'utf-8')
  if (!encoding) return null
  if (encoding === 'windows-1252') {
    let text = ''
    for (let i = 0; i < bytes.length; i += 8192) {
      const chunk = bytes.subarray(i, i + 8192)
      text += String.fromCharCode(
        ...Array.from(chunk, (b) => (b >= 0x80 && b <= 0x9f ? WINDOWS_1252_C1[b - 0x80]! : b)),
      )
    }
    return text
  }
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return null
  }
}
