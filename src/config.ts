/** @module Validates the environment (README, "Configuration") into a typed Config; every problem is reported at once. */
import { webhookSecretKey } from './lib/standard-webhooks.ts'

export type MailTransportName = 'log' | 'smtp' | 'mautic' | 'http'
export type MirrorMode = 'observe' | 'enforce'

export interface Config {
  production: boolean
  port: number
  host: string
  publicUrl: string
  databasePath: string
  /** Undefined only in development, where the Node entry generates one into ./data/. */
  appSecret?: string
  appSecretPrevious?: string
  mail: {
    transport: MailTransportName
    smtpUrl?: string
    from: string
    httpUrl?: string
    httpToken?: string
    /**
     * UNSUBSCRIBE_MAILTO: `local@domain` whose sub-addresses (`local+TOKEN@domain`) reach the relay's
     * SMTP listener; added as the `mailto:` of List-Unsubscribe. Only with the relay: a mailto nobody
     * reads would lose withdrawals.
     */
    unsubscribeMailto?: string
  }
  mautic?: {
    url: string
    clientId?: string
    clientSecret?: string
    username?: string
    password?: string
    /**
     * MAUTIC_CONFIRM_EMAIL_ID: the Mautic e-mail that MAIL_TRANSPORT=mautic sends as the double
     * opt-in confirmation, with the token `{consent_confirm_url}`.
     */
    confirmEmailId?: number
  }
  mauticWebhookSecret?: string
  mirrorMode: MirrorMode
  relay?: { port: number; upstreamUrl: string }
  org: { name: string; privacyUrl?: string; logoUrl?: string }
  /**
   * DPO_EMAIL and DPO_LOCALE: who gets the breach reminders (the 72-hour clock of GDPR Art. 33) and
   * appears in the record of processing activities (Art. 30(1)(a)), in which language.
   */
  dpo?: { email: string; locale: 'fr' | 'en' }
  /**
   * TRUST_PROXY: how many reverse proxies of yours stand in front of the gateway. 0: the client is the
   * socket's address; N: the client is the address N entries from the right of X-Forwarded-For (each
   * proxy appends the address it saw; what is further left, the client wrote itself).
   */
  trustProxy: number
  /** ADMIN_SETUP_TOKEN: opens /admin/setup?token=… until the first owner exists (Workers). */
  adminSetupToken?: string
  /** Retention, monitoring and alerts, re-consent, backups (README, "Operations"). */
  operations: OperationsConfig
  /** METRICS=1: serves GET /metrics (Prometheus text format, admin API key); off otherwise. */
  metrics: boolean
}

export interface OperationsConfig {
  /** RETENTION_INACTIVE_DAYS: a contact with no activity of their own this long is erased; 0: never. */
  retentionInactiveDays: number
  /** ALERT_EMAIL (default DPO_EMAIL): where alert mails go, in DPO_LOCALE (`alertLocale`). */
  alertEmail?: string
  alertLocale: 'fr' | 'en'
  /** ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET (whsec_…): alerts signed with Standard Webhooks. */
  alertWebhook?: { url: string; secret: string }
  /** MONITOR_WEBHOOK_SILENCE_HOURS: no Mautic delivery this long is a finding. */
  webhookSilenceHours: number
  /** BACKUP_MAX_AGE_HOURS: the last backup older than this is a finding; undefined: not checked. */
  backupMaxAgeHours?: number
  /** RECONSENT_GRACE_DAYS: older consents pass the gate this long after a re-consent version. */
  reconsentGraceDays: number
  /** RECONSENT_MAILS_PER_RUN: re-consent mails queued per scheduler run (one a minute). */
  reconsentMailsPerRun: number
}

export type RawEnv = Record<string, string | undefined>

/** Thrown by parseConfig; `problems` names each bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const MIN_SECRET_LENGTH = 32

export function parseConfig(env: RawEnv): Config {
  const problems: string[] = []
  const get = (name: string) => {
    const v = env[name]?.trim()
    return v === '' ? undefined : v
  }
  const production = get('NODE_ENV') === 'production'

  const port = parsePort('PORT', get('PORT') ?? '8787', problems)
  const host = get('HOST') ?? '127.0.0.1'
  const publicUrl = parsePublicUrl(
    get('PUBLIC_URL') ?? `http://localhost:${port}`,
    production,
    problems,
  )

  const appSecret = get('APP_SECRET')
  if (appSecret === undefined && production)
    problems.push('APP_SECRET is required when NODE_ENV=production (at least 32 characters)')
  for (const [name, value] of [
    ['APP_SECRET', appSecret],
    ['APP_SECRET_PREVIOUS', get('APP_SECRET_PREVIOUS')],
  ])
    if (value !== undefined && value.length < MIN_SECRET_LENGTH)
      problems.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters long`)
  if (appSecret !== undefined && appSecret === get('APP_SECRET_PREVIOUS'))
    problems.push('APP_SECRET_PREVIOUS must differ from APP_SECRET')

  const transport = oneOf(
    'MAIL_TRANSPORT',
    get('MAIL_TRANSPORT') ?? 'log',
    ['log', 'smtp', 'mautic', 'http'],
    problems,
  )
  // `log` keeps each mail (./data/mail/, or D1's mail_log on Workers) and sends none: in production
  // double opt-in could never complete and access links never arrive.
  if (production && transport === 'log')
    problems.push(
      `MAIL_TRANSPORT=log sends no e-mail (it only keeps them${get('MAIL_TRANSPORT') ? '' : '; it is the default'}), ` +
        'so in production nobody could confirm a subscription. Set MAIL_TRANSPORT to smtp (with ' +
        'SMTP_URL; Node only), http (with MAIL_HTTP_URL, and MAIL_HTTP_TOKEN if the endpoint wants a ' +
        'bearer token) or mautic (with MAUTIC_URL and MAUTIC_CONFIRM_EMAIL_ID, plus SMTP_URL or ' +
        'MAIL_HTTP_URL for the other mails); or set NODE_ENV=development for a trial',
    )
  const smtpUrl = get('SMTP_URL')
  if (smtpUrl !== undefined) checkUrl('SMTP_URL', smtpUrl, ['smtp:', 'smtps:'], problems)
  else if (transport === 'smtp')
    problems.push('SMTP_URL is required when MAIL_TRANSPORT=smtp (smtp://user:pass@host:port)')
  const httpUrl = get('MAIL_HTTP_URL')
  if (httpUrl !== undefined) checkUrl('MAIL_HTTP_URL', httpUrl, ['http:', 'https:'], problems)
  else if (transport === 'http') problems.push('MAIL_HTTP_URL is required when MAIL_TRANSPORT=http')
  const from = get('MAIL_FROM') ?? `no-reply@${hostOf(publicUrl)}`
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(from) && !/^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(from))
    problems.push(`MAIL_FROM is not an e-mail address: "${from}"`)

  const mautic = parseMautic(get, problems)
  if (transport === 'mautic' && !mautic)
    problems.push('MAUTIC_URL is required when MAIL_TRANSPORT=mautic')
  if (transport === 'mautic' && mautic && mautic.confirmEmailId === undefined)
    problems.push(
      'MAUTIC_CONFIRM_EMAIL_ID is required when MAIL_TRANSPORT=mautic: the id of the Mautic e-mail ' +
        'to send as the double opt-in confirmation, with {consent_confirm_url} in its content',
    )
  const mirrorMode = oneOf(
    'MIRROR_MODE',
    get('MIRROR_MODE') ?? 'observe',
    ['observe', 'enforce'],
    problems,
  )

  const relayPort = get('RELAY_PORT')
  const relayUpstream = get('RELAY_UPSTREAM_URL')
  let relay: Config['relay']
  if (relayPort !== undefined || relayUpstream !== undefined) {
    if (relayPort === undefined)
      problems.push('RELAY_PORT is required when RELAY_UPSTREAM_URL is set')
    if (relayUpstream === undefined)
      problems.push('RELAY_UPSTREAM_URL is required when RELAY_PORT is set')
    else checkUrl('RELAY_UPSTREAM_URL', relayUpstream, ['smtp:', 'smtps:'], problems)
    if (relayPort !== undefined && relayUpstream !== undefined)
      relay = { port: parsePort('RELAY_PORT', relayPort, problems), upstreamUrl: relayUpstream }
  }

  const unsubscribeMailto = get('UNSUBSCRIBE_MAILTO')?.toLowerCase()
  if (unsubscribeMailto !== undefined) {
    const m = /^([a-z0-9._-]+)@([a-z0-9.-]+\.[a-z]{2,})$/.exec(unsubscribeMailto)
    if (!m)
      problems.push(
        `UNSUBSCRIBE_MAILTO must be a plain local@domain address, got "${unsubscribeMailto}"`,
      )
    // local + "+" + the 42-character token must fit in 64 characters (RFC 5321 §4.5.3.1.1).
    else if (m[1]!.length > 21)
      problems.push('UNSUBSCRIBE_MAILTO: the part before @ must be at most 21 characters')
    if (relayPort === undefined)
      problems.push(
        'UNSUBSCRIBE_MAILTO needs the SMTP listener (RELAY_PORT): its mail must reach the gateway, or withdrawals would be lost',
      )
  }

  const privacyUrl = get('ORG_PRIVACY_URL')
  if (privacyUrl !== undefined)
    checkUrl('ORG_PRIVACY_URL', privacyUrl, ['http:', 'https:'], problems)
  const logoUrl = get('ORG_LOGO_URL')
  if (logoUrl !== undefined) checkUrl('ORG_LOGO_URL', logoUrl, ['http:', 'https:'], problems)

  const dpoEmail = get('DPO_EMAIL')
  if (dpoEmail !== undefined && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(dpoEmail))
    problems.push(`DPO_EMAIL is not an e-mail address: "${dpoEmail}"`)
  const dpoLocale = oneOf('DPO_LOCALE', get('DPO_LOCALE') ?? 'fr', ['fr', 'en'], problems)

  const trustProxy = parseTrustProxy(get('TRUST_PROXY') ?? '0', problems)

  const adminSetupToken = get('ADMIN_SETUP_TOKEN')
  if (adminSetupToken !== undefined && adminSetupToken.length < 16)
    problems.push(
      "ADMIN_SETUP_TOKEN must be at least 16 characters long (it opens the first owner's set-up)",
    )

  const operations = parseOperations(get, dpoEmail, dpoLocale === 'en' ? 'en' : 'fr', problems)

  const metrics = oneOf('METRICS', get('METRICS') ?? '0', ['0', '1'], problems) === '1'

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    production,
    port,
    host,
    publicUrl,
    databasePath: get('DATABASE_PATH') ?? './data/consent-gateway.db',
    appSecret,
    appSecretPrevious: get('APP_SECRET_PREVIOUS'),
    mail: {
      transport: transport as MailTransportName,
      smtpUrl,
      from,
      httpUrl,
      httpToken: get('MAIL_HTTP_TOKEN'),
      unsubscribeMailto,
    },
    mautic,
    mauticWebhookSecret: get('MAUTIC_WEBHOOK_SECRET'),
    mirrorMode: mirrorMode as MirrorMode,
    relay,
    org: { name: get('ORG_NAME') ?? 'Consent Gateway', privacyUrl, logoUrl },
    dpo: dpoEmail ? { email: dpoEmail, locale: dpoLocale as 'fr' | 'en' } : undefined,
    trustProxy,
    adminSetupToken,
    operations,
    metrics,
  }
}

function isWebhookSecret(secret: string): boolean {
  try {
    webhookSecretKey(secret)
    return true
  } catch {
    return false
  }
}

/** A whole number within bounds, or the default; a problem named otherwise. */
function wholeNumber(
  name: string,
  value: string | undefined,
  fallback: number,
  [min, max]: [number, number],
  problems: string[],
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${value}"`)
    return fallback
  }
  return n
}

/**
 * RETENTION_INACTIVE_DAYS: 0 (never) or at least 30 days. A value such as 3 (years meant as days)
 * would erase almost everyone at the next run: refused rather than obeyed.
 */
function retentionDays(value: string | undefined, problems: string[]): number {
  if (value === undefined) return 1095
  const n = Number(value)
  if (/^\d+$/.test(value) && (n === 0 || (n >= 30 && n <= 36500))) return n
  problems.push(
    `RETENTION_INACTIVE_DAYS must be 0 (never erase) or a number of days from 30 to 36500 (1095 is three years), got "${value}"`,
  )
  return 1095
}

function parseOperations(
  get: (n: string) => string | undefined,
  dpoEmail: string | undefined,
  alertLocale: 'fr' | 'en',
  problems: string[],
): OperationsConfig {
  const alertEmail = get('ALERT_EMAIL')
  if (alertEmail !== undefined && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(alertEmail))
    problems.push(`ALERT_EMAIL is not an e-mail address: "${alertEmail}"`)
  const hookUrl = get('ALERT_WEBHOOK_URL')
  const hookSecret = get('ALERT_WEBHOOK_SECRET')
  let alertWebhook: OperationsConfig['alertWebhook']
  if (hookUrl !== undefined) {
    checkUrl('ALERT_WEBHOOK_URL', hookUrl, ['http:', 'https:'], problems)
    if (hookSecret === undefined)
      problems.push(
        'ALERT_WEBHOOK_SECRET is required with ALERT_WEBHOOK_URL: a Standard Webhooks secret (whsec_ and the base64 of 24 to 64 random bytes)',
      )
    else if (!isWebhookSecret(hookSecret))
      problems.push(
        'ALERT_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes',
      )
    else alertWebhook = { url: hookUrl, secret: hookSecret }
  } else if (hookSecret !== undefined)
    problems.push('ALERT_WEBHOOK_SECRET is set but ALERT_WEBHOOK_URL is not')
  const backupAge = get('BACKUP_MAX_AGE_HOURS')
  return {
    retentionInactiveDays: retentionDays(get('RETENTION_INACTIVE_DAYS'), problems),
    alertEmail: alertEmail ?? dpoEmail,
    alertLocale,
    alertWebhook,
    webhookSilenceHours: wholeNumber(
      'MONITOR_WEBHOOK_SILENCE_HOURS',
      get('MONITOR_WEBHOOK_SILENCE_HOURS'),
      24,
      [1, 8760],
      problems,
    ),
    backupMaxAgeHours:
      backupAge === undefined || backupAge === '0'
        ? undefined
        : wholeNumber('BACKUP_MAX_AGE_HOURS', backupAge, 0, [1, 8760], problems),
    reconsentGraceDays: wholeNumber(
      'RECONSENT_GRACE_DAYS',
      get('RECONSENT_GRACE_DAYS'),
      30,
      [0, 365],
      problems,
    ),
    reconsentMailsPerRun: wholeNumber(
      'RECONSENT_MAILS_PER_RUN',
      get('RECONSENT_MAILS_PER_RUN'),
      100,
      [1, 5000],
      problems,
    ),
  }
}

function parseMautic(get: (n: string) => string | undefined, problems: string[]): Config['mautic'] {
  const url = get('MAUTIC_URL')
  const [clientId, clientSecret] = [get('MAUTIC_CLIENT_ID'), get('MAUTIC_CLIENT_SECRET')]
  const [username, password] = [get('MAUTIC_USERNAME'), get('MAUTIC_PASSWORD')]
  if ((clientId === undefined) !== (clientSecret === undefined))
    problems.push('MAUTIC_CLIENT_ID and MAUTIC_CLIENT_SECRET must be set together')
  if ((username === undefined) !== (password === undefined))
    problems.push('MAUTIC_USERNAME and MAUTIC_PASSWORD must be set together')
  const confirmId = get('MAUTIC_CONFIRM_EMAIL_ID')
  const confirmEmailId = confirmId === undefined ? undefined : Number(confirmId)
  if (confirmId !== undefined && !(/^\d+$/.test(confirmId) && confirmEmailId! > 0))
    problems.push(
      `MAUTIC_CONFIRM_EMAIL_ID must be the id of a Mautic e-mail (a positive integer), got "${confirmId}"`,
    )
  if (url === undefined) {
    if (clientId ?? username)
      problems.push('MAUTIC_URL is required when Mautic credentials are set')
    return undefined
  }
  checkUrl('MAUTIC_URL', url, ['http:', 'https:'], problems)
  if (clientId === undefined && username === undefined)
    problems.push(
      'MAUTIC_URL needs MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET or MAUTIC_USERNAME/MAUTIC_PASSWORD',
    )
  return {
    url: url.replace(/\/+$/, ''),
    clientId,
    clientSecret,
    username,
    password,
    confirmEmailId,
  }
}

/** TRUST_PROXY: a number of proxies; `true` and `false` (the former spelling) mean 1 and 0. */
function parseTrustProxy(value: string, problems: string[]): number {
  if (value === 'false') return 0
  if (value === 'true') return 1
  if (/^\d{1,2}$/.test(value)) return Number(value)
  problems.push(
    `TRUST_PROXY must be the number of your reverse proxies in front of the gateway (0, 1, 2…), got "${value}"`,
  )
  return 0
}

function parsePort(name: string, value: string, problems: string[]): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) {
    problems.push(`${name} must be a port number between 0 and 65535, got "${value}"`)
    return 0
  }
  return n
}

function parsePublicUrl(value: string, production: boolean, problems: string[]): string {
  if (!checkUrl('PUBLIC_URL', value, ['http:', 'https:'], problems)) return value
  // RFC 8058 §3.1: the one-click URI must be https; mail providers ignore plain http ones.
  if (production && !value.startsWith('https://'))
    problems.push(
      'PUBLIC_URL must start with https:// when NODE_ENV=production (RFC 8058 one-click links)',
    )
  return value.replace(/\/+$/, '')
}

function checkUrl(name: string, value: string, protocols: string[], problems: string[]): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${name} is not a valid URL: "${redactUrl(value)}"`)
    return false
  }
  if (!protocols.includes(url.protocol)) {
    problems.push(`${name} must use ${protocols.join(' or ')}, got "${url.protocol}"`)
    return false
  }
  return true
}

function oneOf(name: string, value: string, allowed: string[], problems: string[]): string {
  if (!allowed.includes(value))
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`)
  return value
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname
  } catch {
    return 'localhost'
  }
}

/** Hides a password embedded in a URL before it reaches an error message. */
function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
