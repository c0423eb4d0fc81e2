// Re-consent, end to end through a real SMTP server: a notice version published with "requires
// re-consent" mails everyone still on an older version, in their language, a few per run and resuming
// where it stopped; the link's page asks, its POST records the new consent (or withdraws); during the
// grace period the old consent still passes the gate, after it the gate answers notice_outdated.
import { describe, expect, it } from 'vitest'
import { confirmOptin } from '../../../../src/domain/consent/optin.ts'
import { queueReconsentMails, reconsentProgress } from '../../../../src/domain/consent/reconsent.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { withdraw } from '../../../../src/domain/consent/withdrawal.ts'
import { runScheduledJobs } from '../../../../src/jobs/scheduler.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { API_CONSENT, drainOutbox, testApp } from '../../../helpers/deps.ts'
import { linkIn, useSmtpServer } from '../../../helpers/smtp.ts'

const smtp = useSmtpServer()
const DAY = 86_400_000
const ORIGIN = 'http://gateway.test'

async function setup(env: Record<string, string> = {}) {
  const t = await testApp({ ORG_NAME: 'ACME', ...env }, { mail: smtp.transport })
  const client = api(t.app, await apiKey(t.deps, ['gate', 'admin']))
  const inbox = (to: string) => smtp.server.received.filter((m) => m.envelope.to.includes(to))
  /** Subscribed and confirmed through the mail the SMTP server received. */
  const confirmed = async (email: string, locale: 'fr' | 'en') => {
    const r = await subscribe(t.deps, { ...API_CONSENT, email, locale, purposes: ['newsletter'] })
    if (!r.ok) throw new Error(r.message)
    await drainOutbox(t.deps)
    const token = /\/c\/([\w.-]+)/.exec(inbox(email).at(-1)!.parsed.text ?? '')![1]!
    expect((await confirmOptin(t.deps, token, { ip: '192.0.2.1' })).status).toBe('confirmed')
    return r.contactId
  }
  const gate = async (email: string) => (await client.gate('newsletter', [{ email }]))[0]!
  const publish = (locale: 'fr' | 'en', text: string, grace?: number) =>
    client.post('/api/v1/purposes/newsletter/notices', {
      locale,
      title: locale === 'fr' ? 'Lettre d’information' : 'Newsletter',
      text,
      privacy_url: 'https://acme.test/privacy',
      requires_reconsent: true,
      ...(grace === undefined ? {} : { reconsent_grace_days: grace }),
    })
  const page = (url: string, init?: RequestInit) => t.app.request(url.replace(ORIGIN, ''), init)
  const answer = (url: string, value: 'accept' | 'decline') =>
    page(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
      body: `answer=${value}`,
    })
  return { ...t, client, inbox, confirmed, gate, publish, page, answer }
}

describe('re-consent', () => {
  it('mails the new wording in each language through SMTP; a yes renews, no answer ends after the grace period', async () => {
    const t = await setup({ RECONSENT_GRACE_DAYS: '30' })
    const anne = 'anne@exemple.fr'
    const bob = 'bob@example.com'
    const chloe = 'chloe@exemple.fr'
    await t.confirmed(anne, 'fr')
    await t.confirmed(bob, 'en')
    await t.confirmed(chloe, 'fr')
    smtp.server.received.length = 0

    const v2 = await t.publish(
      'fr',
      'Notre lettre devient hebdomadaire et parle aussi de nos partenaires.',
    )
    expect(v2.status).toBe(201)
    expect(v2.body.reconsent_grace_until).toBe(new Date(t.clock.now() + 30 * DAY).toISOString())
    // During the grace period the consents given under version 1 still pass.
    expect(await t.gate(anne)).toMatchObject({ allowed: true })

    await runScheduledJobs(t.deps)
    await drainOutbox(t.deps)
    // Only the French consents are concerned: the English notice did not change.
    expect(t.inbox(bob)).toEqual([])
    const [mail] = t.inbox(anne)
    expect(t.inbox(anne)).toHaveLength(1)
    expect(mail!.parsed.subject).toBe(
      'Souhaitez-vous continuer à recevoir « Lettre d’information » ? – ACME',
    )
    expect(mail!.parsed.text).toContain('Notre lettre devient hebdomadaire')
    expect(mail!.parsed.text).toMatch(
      /nous cesserons de vous envoyer «\s?Lettre d’information\s?» le \d+ \S+ 20\d\d/,
    )
    expect(mail!.parsed.html).toContain('Notre lettre devient hebdomadaire')
    expect(t.inbox(chloe)).toHaveLength(1)
    // Run again: nobody is mailed twice.
    await runScheduledJobs(t.deps)
    await drainOutbox(t.deps)
    expect(t.inbox(anne)).toHaveLength(1)

    // The link's page asks and changes nothing; the POST of "yes" records the consent under v2.
    const link = linkIn(mail!.parsed.text!, '/r/')
    const shown = await t.page(link)
    expect(shown.status).toBe(200)
    const html = await shown.text()
    expect(html).toContain('Notre lettre devient hebdomadaire')
    expect(html).toContain('<html lang="fr">')
    expect((await t.answer(link, 'accept')).status).toBe(200)
    const proof = await api(t.app, await apiKey(t.deps, ['consents:read'])).get(
      `/api/v1/contacts/${anne}/consents`,
    )
    expect((proof.body.history as any[]).at(-1)).toMatchObject({
      action: 'confirmed',
      method: 'reconsent',
      notice: { version: 2 },
    })
    // Answered once: the page now says so.
    expect(await (await t.page(link)).text()).toContain('Déjà enregistré')

    expect(await reconsentProgress(t.deps)).toMatchObject([
      {
        purpose: 'newsletter',
        locale: 'fr',
        version: 2,
        queued: 2,
        sent: 2,
        answered: 1,
        outdated: 1,
        all_queued: true,
      },
    ])

    // After the grace period: Chloé, who did not answer, is refused; Anne and Bob pass.
    t.clock.advance(30 * DAY + 1)
    expect(await t.gate(chloe)).toMatchObject({ allowed: false, reason: 'notice_outdated' })
    expect(await t.gate(anne)).toMatchObject({ allowed: true })
    expect(await t.gate(bob)).toMatchObject({ allowed: true })
    // A late "yes" still renews.
    const late = linkIn(t.inbox(chloe)[0]!.parsed.text!, '/r/')
    expect((await t.answer(late, 'accept')).status).toBe(200)
    expect(await t.gate(chloe)).toMatchObject({ allowed: true })
  })

  it('"no" withdraws the purpose', async () => {
    const t = await setup()
    await t.confirmed('dora@exemple.fr', 'fr')
    await t.publish('fr', 'Nouveau texte.')
    await queueReconsentMails(t.deps)
    await drainOutbox(t.deps)
    const link = linkIn(t.inbox('dora@exemple.fr').at(-1)!.parsed.text!, '/r/')
    expect((await t.answer(link, 'decline')).status).toBe(200)
    expect(await t.gate('dora@exemple.fr')).toMatchObject({ allowed: false, reason: 'withdrawn' })
    expect(await (await t.page(link)).text()).toContain('Plus rien à répondre')
  })

  it('is throttled (RECONSENT_MAILS_PER_RUN) and resumes where it stopped; never mails one who withdrew', async () => {
    const t = await setup({ RECONSENT_MAILS_PER_RUN: '2' })
    const people = [
      'p1@exemple.fr',
      'p2@exemple.fr',
      'p3@exemple.fr',
      'p4@exemple.fr',
      'p5@exemple.fr',
    ]
    const ids: string[] = []
    for (const p of people) ids.push(await t.confirmed(p, 'fr'))
    // p5 unsubscribed: asking for consent again would be prospecting.
    await withdraw(t.deps, ids[4]!, ['newsletter'], {
      method: 'one_click',
      source: 'test',
      actor: 'contact',
      evidence: {},
    })
    smtp.server.received.length = 0
    await t.publish('fr', 'Nouveau texte.')
    expect(await queueReconsentMails(t.deps)).toBe(2)
    expect(await queueReconsentMails(t.deps)).toBe(2)
    expect(await queueReconsentMails(t.deps)).toBe(0)
    await drainOutbox(t.deps)
    expect(smtp.server.received.map((m) => m.envelope.to[0]).sort()).toEqual(people.slice(0, 4))
    expect(await reconsentProgress(t.deps)).toMatchObject([
      { queued: 4, sent: 4, all_queued: true },
    ])
  })
})
