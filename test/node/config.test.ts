import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('parseConfig', () => {
  it('runs with no configuration at all, on the README defaults', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:8787',
      databasePath: './data/consent-gateway.db',
      mail: { transport: 'log' },
      mirrorMode: 'observe',
      production: false,
    })
    expect(config.appSecret).toBeUndefined()
    expect(config.relay).toBeUndefined()
    expect(config.mautic).toBeUndefined()
  })

  it('derives PUBLIC_URL from PORT and drops a trailing slash', () => {
    expect(parseConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000')
    expect(parseConfig({ PUBLIC_URL: 'https://c.example.com/' }).publicUrl).toBe(
      'https://c.example.com',
    )
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'ftp://x.example' }, 'PUBLIC_URL'],
    [{ APP_SECRET: 'short' }, 'APP_SECRET'],
    [{ APP_SECRET_PREVIOUS: 'short' }, 'APP_SECRET_PREVIOUS'],
    [{ MAIL_TRANSPORT: 'pigeon' }, 'MAIL_TRANSPORT'],
    [{ MAIL_TRANSPORT: 'smtp' }, 'SMTP_URL'],
    [{ SMTP_URL: 'http://mail.example' }, 'SMTP_URL'],
    [{ MAIL_TRANSPORT: 'http' }, 'MAIL_HTTP_URL'],
    [{ MAIL_FROM: 'nobody' }, 'MAIL_FROM'],
    [{ MAIL_TRANSPORT: 'mautic' }, 'MAUTIC_URL'],
    [{ MAUTIC_URL: 'https://m.example' }, 'MAUTIC_URL needs'],
    [{ MAUTIC_URL: 'https://m.example', MAUTIC_CLIENT_ID: 'id' }, 'MAUTIC_CLIENT_SECRET'],
    [{ MAUTIC_USERNAME: 'u', MAUTIC_PASSWORD: 'p' }, 'MAUTIC_URL is required'],
    [{ MIRROR_MODE: 'yolo' }, 'MIRROR_MODE'],
    [{ RELAY_PORT: '2525' }, 'RELAY_UPSTREAM_URL'],
    [{ RELAY_UPSTREAM_URL: 'smtp://up.example:25' }, 'RELAY_PORT'],
    [{ RELAY_PORT: 'x', RELAY_UPSTREAM_URL: 'smtp://up.example:25' }, 'RELAY_PORT'],
    [
      { NODE_ENV: 'production', PUBLIC_URL: 'https://c.example', APP_SECRET: undefined },
      'APP_SECRET is required',
    ],
    [{ NODE_ENV: 'production', APP_SECRET: 'x'.repeat(40) }, 'PUBLIC_URL must start with https://'],
  ] as [Record<string, string>, string][])('names the bad variable: %o', (env, expected) => {
    const problems = problemsOf(env)
    expect(
      problems.some((p) => p.includes(expected)),
      problems.join('\n'),
    ).toBe(true)
  })

  it('reads TRUST_PROXY as a number of proxies (true and false as 1 and 0)', () => {
    expect(parseConfig({}).trustProxy).toBe(0)
    expect(parseConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1)
    expect(parseConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(parseConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1)
    expect(parseConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(0)
    expect(() => parseConfig({ TRUST_PROXY: 'yes' })).toThrow(
      /TRUST_PROXY must be the number of your reverse proxies/,
    )
  })

  it('reports every problem in one error, one line each', () => {
    const err = (() => {
      try {
        parseConfig({
          PORT: 'x',
          MAIL_TRANSPORT: 'pigeon',
          MIRROR_MODE: 'yolo',
          NODE_ENV: 'production',
        })
      } catch (e) {
        return e as ConfigError
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect(err!.problems.length).toBeGreaterThanOrEqual(4)
    for (const name of ['PORT', 'MAIL_TRANSPORT', 'MIRROR_MODE', 'APP_SECRET'])
      expect(err!.message).toContain(name)
  })

  it('reads the DPO for breach reminders and the record of processing (DPO_EMAIL, DPO_LOCALE)', () => {
    expect(parseConfig({}).dpo).toBeUndefined()
    expect(parseConfig({ DPO_EMAIL: 'dpo@acme.test' }).dpo).toEqual({
      email: 'dpo@acme.test',
      locale: 'fr',
    })
    expect(parseConfig({ DPO_EMAIL: 'dpo@acme.test', DPO_LOCALE: 'en' }).dpo!.locale).toBe('en')
    expect(problemsOf({ DPO_EMAIL: 'not an address', DPO_LOCALE: 'de' })).toEqual([
      'DPO_EMAIL is not an e-mail address: "not an address"',
      'DPO_LOCALE must be one of fr, en, got "de"',
    ])
  })

  it('reads the operations settings, with safe defaults, and refuses dangerous or malformed ones', () => {
    expect(parseConfig({}).operations).toEqual({
      retentionInactiveDays: 1095,
      alertEmail: undefined,
      alertLocale: 'fr',
      alertWebhook: undefined,
      webhookSilenceHours: 24,
      backupMaxAgeHours: undefined,
      reconsentGraceDays: 30,
      reconsentMailsPerRun: 100,
    })
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
    expect(
      parseConfig({
        DPO_EMAIL: 'dpo@acme.test',
        DPO_LOCALE: 'en',
        RETENTION_INACTIVE_DAYS: '0',
        ALERT_WEBHOOK_URL: 'https://alerts.acme.test/hook',
        ALERT_WEBHOOK_SECRET: secret,
        BACKUP_MAX_AGE_HOURS: '26',
      }).operations,
    ).toMatchObject({
      retentionInactiveDays: 0,
      alertEmail: 'dpo@acme.test', // ALERT_EMAIL falls back on DPO_EMAIL
      alertLocale: 'en',
      alertWebhook: { url: 'https://alerts.acme.test/hook', secret },
      backupMaxAgeHours: 26,
    })
    expect(
      problemsOf({
        RETENTION_INACTIVE_DAYS: '3',
        ALERT_EMAIL: 'nobody',
        ALERT_WEBHOOK_URL: 'https://alerts.acme.test/hook',
        ALERT_WEBHOOK_SECRET: 'not-a-secret',
        RECONSENT_GRACE_DAYS: '-1',
      }),
    ).toEqual([
      'ALERT_EMAIL is not an e-mail address: "nobody"',
      'ALERT_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes',
      'RETENTION_INACTIVE_DAYS must be 0 (never erase) or a number of days from 30 to 36500 (1095 is three years), got "3"',
      'RECONSENT_GRACE_DAYS must be a whole number from 0 to 365, got "-1"',
    ])
    expect(problemsOf({ ALERT_WEBHOOK_URL: 'https://alerts.acme.test/hook' })[0]).toMatch(
      /^ALERT_WEBHOOK_SECRET is required with ALERT_WEBHOOK_URL/,
    )
  })

  it('refuses MAIL_TRANSPORT=log (the default) in production, naming the transports that send', () => {
    const base = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://c.example',
      APP_SECRET: 'a'.repeat(40),
    }
    for (const env of [base, { ...base, MAIL_TRANSPORT: 'log' }]) {
      const problems = problemsOf(env)
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^MAIL_TRANSPORT=log sends no e-mail/)
      for (const name of [
        'smtp',
        'SMTP_URL',
        'http',
        'MAIL_HTTP_URL',
        'MAIL_HTTP_TOKEN',
        'mautic',
        'MAUTIC_CONFIRM_EMAIL_ID',
        'NODE_ENV=development',
      ])
        expect(problems[0]).toContain(name)
    }
    expect(
      problemsOf({ ...base, MAIL_TRANSPORT: 'http', MAIL_HTTP_URL: 'https://mail.example/send' }),
    ).toEqual([])
    // In development, log stays the default.
    expect(parseConfig({}).mail.transport).toBe('log')
  })

  it('never echoes a password from a URL in its message', () => {
    const problems = problemsOf({ MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://user:hunter2@' })
    expect(problems.join('\n')).not.toContain('hunter2')
  })

  it('accepts a complete production configuration', () => {
    const config = parseConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://consent.example.com',
      APP_SECRET: 'a'.repeat(40),
      APP_SECRET_PREVIOUS: 'b'.repeat(40),
      MAIL_TRANSPORT: 'smtp',
      SMTP_URL: 'smtp://u:p@mail.example.com:587',
      MAIL_FROM: 'Example <news@example.com>',
      MAUTIC_URL: 'https://mautic.example.com/',
      MAUTIC_CLIENT_ID: 'id',
      MAUTIC_CLIENT_SECRET: 'secret',
      MAUTIC_WEBHOOK_SECRET: 'whsec',
      MIRROR_MODE: 'enforce',
      RELAY_PORT: '2525',
      RELAY_UPSTREAM_URL: 'smtp://mail.example.com:25',
    })
    expect(config.production).toBe(true)
    expect(config.mautic?.url).toBe('https://mautic.example.com')
    expect(config.relay).toEqual({ port: 2525, upstreamUrl: 'smtp://mail.example.com:25' })
    expect(config.mirrorMode).toBe('enforce')
  })
})

describe('parseConfig: MAIL_TRANSPORT=mautic', () => {
  const mautic = {
    MAIL_TRANSPORT: 'mautic',
    MAUTIC_URL: 'https://mautic.example.com',
    MAUTIC_CLIENT_ID: 'id',
    MAUTIC_CLIENT_SECRET: 'secret',
  }

  it('reads MAUTIC_CONFIRM_EMAIL_ID as mautic.confirmEmailId', () => {
    const config = parseConfig({ ...mautic, MAUTIC_CONFIRM_EMAIL_ID: '7' })
    expect(config.mail.transport).toBe('mautic')
    expect(config.mautic?.confirmEmailId).toBe(7)
  })

  it('requires MAUTIC_CONFIRM_EMAIL_ID, saying what it is', () => {
    const problems = problemsOf(mautic)
    expect(problems).toEqual([
      'MAUTIC_CONFIRM_EMAIL_ID is required when MAIL_TRANSPORT=mautic: the id of the Mautic e-mail ' +
        'to send as the double opt-in confirmation, with {consent_confirm_url} in its content',
    ])
  })

  it.each(['0', '-3', '7.5', 'seven'])('refuses MAUTIC_CONFIRM_EMAIL_ID=%s', (value) => {
    const problems = problemsOf({ ...mautic, MAUTIC_CONFIRM_EMAIL_ID: value })
    expect(problems).toEqual([
      `MAUTIC_CONFIRM_EMAIL_ID must be the id of a Mautic e-mail (a positive integer), got "${value}"`,
    ])
  })

  it('does not need it for the other transports', () => {
    const { MAIL_TRANSPORT: _t, ...rest } = mautic
    expect(parseConfig(rest).mautic?.confirmEmailId).toBeUndefined()
  })
})
