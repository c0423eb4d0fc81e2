/** @module Development convenience: with no APP_SECRET, generate one into ./data/ (mode 0600) and warn. */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { toBase64Url } from '../../lib/encoding.ts'

export const DEV_SECRET_PATH = './data/app-secret'

export function loadOrCreateDevSecret(
  path = DEV_SECRET_PATH,
  warn: (msg: string) => void = console.warn,
): string {
  if (existsSync(path)) {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600) // never readable by others
    const secret = readFileSync(path, 'utf8').trim()
    if (secret.length < 32)
      throw new Error(`${path} holds no usable secret: delete it or set APP_SECRET`)
    return secret
  }
  mkdirSync(dirname(path), { recursive: true })
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(48)))
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  warn(
    `WARNING: APP_SECRET is not set; generated a development secret into ${path}. ` +
      'Set APP_SECRET (and keep it safe) before going to production: losing it makes the encrypted data unreadable.',
  )
  return secret
}
