/**
 * @module Structured JSON logs. A log line never holds an e-mail address or a link token: tokenised
 * paths are cut and anything shaped like an address is masked (GDPR Art. 32, data minimisation).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>
export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void
}

/** Path prefixes whose next segment is a token or an address. */
const SECRET_SEGMENT = /^(\/(?:c|u|p|r|me|subscribe\/confirm)\/|\/api\/v1\/contacts\/)[^/?#]+/
const EMAIL = /[^\s@<>"'(),;:/=?&]+@[^\s@<>"'(),;:/=?&]+\.[a-z]{2,}/gi
const TOKENISH = /\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\b/g // JWS compact form

export function redactPath(path: string): string {
  const pathname = path.split(/[?#]/)[0] ?? ''
  return pathname.replace(SECRET_SEGMENT, '$1:redacted')
}

export function redact(value: unknown): unknown {
  // The includes() tests spare the regular expressions on the many strings that cannot match them
  // (one access-log line per request).
  if (typeof value === 'string') {
    const masked = value.includes('@') ? value.replace(EMAIL, '[email]') : value
    return masked.includes('.') ? masked.replace(TOKENISH, '[token]') : masked
  }
  if (value instanceof Error) return { name: value.name, message: redact(value.message) }
  if (Array.isArray(value)) return value.map(redact)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = redact((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

/** A logger writing one JSON object a line to `write` (console on both runtimes by default). */
export function jsonLogger(
  write: (line: string, level: LogLevel) => void = (line, level) =>
    (level === 'error' || level === 'warn' ? console.error : console.log)(line),
  minLevel: LogLevel = 'info',
): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error']
  const min = order.indexOf(minLevel)
  return {
    log(level, msg, fields = {}) {
      if (order.indexOf(level) < min) return
      const entry: LogFields = { time: new Date().toISOString(), level, msg: redact(msg) }
      for (const key of Object.keys(fields)) entry[key] = redact(fields[key])
      write(JSON.stringify(entry), level)
    },
  }
}
