/**
 * @module Relay settings beyond RELAY_PORT / RELAY_UPSTREAM_URL, read from the environment given to
 * startServer: DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY (PEM; `\n` escapes allowed, as env files
 * often hold one line), RELAY_MAX_SIZE (bytes), RELAY_TLS_KEY / RELAY_TLS_CERT (PEM file paths).
 */
import { readFileSync } from 'node:fs'
import { ConfigError, type Config, type RawEnv } from '../../../config.ts'
import { DEFAULT_RELAY_MAX_SIZE, type RelayOptions } from './server.ts'

export function relayOptionsFromEnv(config: Config, env: RawEnv): RelayOptions | undefined {
  if (!config.relay) return undefined
  const problems: string[] = []
  const get = (name: string) => env[name]?.trim() || undefined
  const options: RelayOptions = { ...config.relay, host: config.host }

  const dkim = { DKIM_DOMAIN: get('DKIM_DOMAIN'), DKIM_SELECTOR: get('DKIM_SELECTOR') }
  const privateKey = get('DKIM_PRIVATE_KEY')?.replace(/\\n/g, '\n')
  const given = [dkim.DKIM_DOMAIN, dkim.DKIM_SELECTOR, privateKey].filter(Boolean).length
  if (given === 3)
    options.dkim = {
      domainName: dkim.DKIM_DOMAIN!,
      keySelector: dkim.DKIM_SELECTOR!,
      privateKey: privateKey!,
    }
  else if (given > 0)
    problems.push('DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY must be set together')
  if (options.dkim && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(options.dkim.privateKey))
    problems.push('DKIM_PRIVATE_KEY must be a PEM private key')

  const maxSize = get('RELAY_MAX_SIZE')
  if (maxSize !== undefined && !/^[1-9]\d{0,10}$/.test(maxSize))
    problems.push(`RELAY_MAX_SIZE must be a number of bytes, got "${maxSize}"`)
  options.maxSize = maxSize ? Number(maxSize) : DEFAULT_RELAY_MAX_SIZE

  const [keyPath, certPath] = [get('RELAY_TLS_KEY'), get('RELAY_TLS_CERT')]
  if (keyPath && certPath)
    try {
      options.tls = { key: readFileSync(keyPath), cert: readFileSync(certPath) }
    } catch (err) {
      problems.push(`RELAY_TLS_KEY / RELAY_TLS_CERT cannot be read: ${(err as Error).message}`)
    }
  else if (keyPath || certPath)
    problems.push('RELAY_TLS_KEY and RELAY_TLS_CERT must be set together')

  if (problems.length) throw new ConfigError(problems)
  return options
}
