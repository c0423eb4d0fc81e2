/**
 * @module Mautic's webhook wire format (docs/mautic.md §1): the tolerant parser, receipt keys,
 * and the fixtures other tests build bodies with (PHP escaping, signature).
 */
import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  KNOWN_EVENT_TYPES,
  jsonDepthExceeds,
  parseMauticDelivery,
  parseMauticWebhook,
  receiptKey,
  WebhookPayloadError,
  type MauticEvent,
} from '../../../src/mautic/webhook-payload.ts'
import {
  channelChanged,
  contactFixture,
  emailSent,
  formSubmitted,
  leadDeleted,
  leadSaved,
  phpJsonEncode,
  realisticBody5k,
  signMautic,
  webhookBody,
  type EventFixture,
  type Json,
} from '../../fixtures/mautic-webhooks.ts'

const TS = '2025-03-14T09:26:54+00:00'
const TS_MS = Date.UTC(2025, 2, 14, 9, 26, 54)
const webSha256 = async (d: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', d as Uint8Array<ArrayBuffer>))
const nodeSha256 = (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest())

function only(body: string): MauticEvent {
  const events = parseMauticWebhook(body)
  expect(events).toHaveLength(1)
  return events[0]!
}
const parseOne = (...events: EventFixture[]) => only(webhookBody(events))
const leadList = (c: Json) => ({ id: c.id, points: c.points, color: c.color, fields: c.fields })

describe.each(['memory', 'db'] as const)('every event type, %s field shape', (shape) => {
  const contact = contactFixture({
    id: 42,
    email: ' Anne.Dupont@Exemple.fr ',
    firstname: 'Anne',
    lastname: 'Dupont',
    tags: ['newsletter', 'vip'],
    dnc: [{ reason: 1, comments: 'User unsubscribed.', channelId: 12 }],
    ip: '203.0.113.7',
    shape,
    extraFields: { consent_newsletter: true, city: 'Besançon' },
    dateModified: '2025-03-14T09:26:53+00:00',
  })
  const parsedContact = {
    id: 42,
    email: 'Anne.Dupont@Exemple.fr',
    tags: ['newsletter', 'vip'],
    doNotContact: [{ channel: 'email', reason: 1, comments: 'User unsubscribed.', channelId: 12 }],
    ipAddresses: ['203.0.113.7'],
    dateModified: TS_MS - 1000,
  }

  it('lead_post_save_new and _update: contact, fields flattened over every group', () => {
    for (const kind of ['new', 'update'] as const) {
      const e = parseOne(leadSaved(kind, contact, TS))
      expect(e).toMatchObject({
        type: `mautic.lead_post_save_${kind}`,
        known: true,
        index: 0,
        timestamp: TS_MS,
        mauticId: 42,
        contact: parsedContact,
      })
      expect(e.contact!.fields).toMatchObject({
        firstname: 'Anne',
        lastname: 'Dupont',
        city: 'Besançon',
        title: null, // '' in the DB shape, null in memory: both empty
        twitter: null, // the social group
        points: shape === 'db' ? '0' : 0,
        consent_newsletter: shape === 'db' ? '1' : true,
      })
      // `properties` (PHP-serialised in the DB shape) never leaks into the values.
      expect(Object.keys(e.contact!.fields)).not.toContain('list')
      expect(e.channelChange).toBeUndefined()
    }
  })

  it('lead_post_delete: the id from the top level, contact.id null, tags as [[],…]', () => {
    const body = webhookBody([leadDeleted(42, contact, TS)])
    expect(body).toContain('"tags":[[],[]]')
    const e = only(body)
    expect(e).toMatchObject({ type: 'mautic.lead_post_delete', mauticId: 42, timestamp: TS_MS })
    expect(e.contact).toMatchObject({ ...parsedContact, id: null, tags: [] })
    expect(only(webhookBody([leadDeleted('43', undefined, TS)])).mauticId).toBe(43)
  })

  it('lead_channel_subscription_changed: channel and statuses', () => {
    const change = { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' }
    const e = parseOne(channelChanged(contact, change, TS))
    expect(e).toMatchObject({ mauticId: 42, contact: parsedContact, channelChange: change })
  })

  it('form_on_submit: the submission, with the contact from submission.lead', () => {
    const e = parseOne(
      formSubmitted({
        submissionId: 901,
        formId: 3,
        formAlias: 'newsletter',
        formName: 'Inscription à la lettre',
        contact,
        results: { email: 'anne.dupont@exemple.fr', consent_newsletter: '1' },
        ip: '198.51.100.4',
        referer: 'https://www.exemple.fr/inscription?src=footer',
        timestamp: TS,
        pageId: 5,
        trackingId: 'trk-1',
      }),
    )
    expect(e.submission).toEqual({
      id: 901,
      formId: 3,
      formAlias: 'newsletter',
      formName: 'Inscription à la lettre',
      ip: '198.51.100.4',
      referer: 'https://www.exemple.fr/inscription?src=footer',
      trackingId: 'trk-1',
      submittedAt: TS_MS,
      pageId: 5,
      results: { email: 'anne.dupont@exemple.fr', consent_newsletter: '1' },
    })
    expect(e.mauticId).toBe(42)
    expect(e.contact).toMatchObject({ id: 42, email: 'Anne.Dupont@Exemple.fr', tags: [] })
    expect(e.contact!.fields.firstname).toBe('Anne')
  })

  it('email_on_send: e-mail id, category, source, subject; marketing vs transactional', () => {
    const marketing = parseOne(
      emailSent({
        emailId: 7,
        category: { id: 2, title: 'Lettres', alias: 'lettres' },
        contact,
        source: ['campaign.event', 12],
        subject: 'Nouveautés / mars',
        timestamp: TS,
      }),
    )
    expect(marketing.emailSend).toEqual({
      emailId: 7,
      categoryId: 2,
      categoryAlias: 'lettres',
      source: ['campaign.event', 12],
      subject: 'Nouveautés / mars',
      isTransactional: false,
    })
    expect(marketing).toMatchObject({ mauticId: 42, contact: parsedContact })
    const api = parseOne(
      emailSent({ emailId: 8, contact, source: ['api', 0], transactional: true, timestamp: TS }),
    )
    expect(api.emailSend).toMatchObject({
      emailId: 8,
      categoryId: null,
      source: ['api', 0],
      isTransactional: true,
    })
  })

  it('the other known types: contact found where each keeps it', () => {
    const c = contact
    const cases: [EventFixture, number | null][] = [
      [['mautic.lead_points_change', { contact: c, points: { old_points: 0, new_points: 5 } }], 42],
      [['mautic.lead_company_change', { added: true, contact: c, company: { id: 9 } }], 42],
      [['mautic.lead_list_change', { contact: c, segment: { id: 4 }, action: 'added' }], 42],
      [['mautic.sms_on_send', { smsId: 3, contact: c, content: 'Bonjour' }], 42],
      [['mautic.email_on_open', { stat: { id: 77, lead: leadList(c), email: { id: 7 } } }], 42],
      [['mautic.page_on_hit', { hit: { id: 5, lead: leadList(c), url: 'https://x.fr/' } }], 42],
      [['mautic.company_post_save', { company: { id: 9, fields: { core: {} } } }], null],
      [['mautic.company_post_delete', { id: 9, company: { id: null } }], null],
    ]
    for (const [[type, el], id] of cases) {
      const e = parseOne([type, { ...el, timestamp: TS }])
      expect(e, type).toMatchObject({ type, known: true, mauticId: id, timestamp: TS_MS })
      expect(e.contact?.email ?? null, type).toBe(id ? 'Anne.Dupont@Exemple.fr' : null)
    }
    const covered = new Set([
      ...cases.map(([[t]]) => t),
      'mautic.lead_post_save_new',
      'mautic.lead_post_save_update',
      'mautic.lead_post_delete',
      'mautic.lead_channel_subscription_changed',
      'mautic.form_on_submit',
      'mautic.email_on_send',
    ])
    expect([...covered].sort()).toEqual([...KNOWN_EVENT_TYPES].sort())
  })
})

describe('tolerance to what Mautic really sends', () => {
  it('[] where an object is expected (PHP json_encode of an empty array)', () => {
    const body =
      '{"mautic.lead_post_save_update":[{"contact":{"id":5,"fields":{"core":{"email":{"id":6,' +
      '"alias":"email","properties":[],"value":"a@exemple.fr"}},"social":[],"personal":[],' +
      '"professional":[]},"owner":[],"ipAddresses":[{"ipAddress":"192.0.2.1","id":1,"ipDetails":[]}],' +
      '"tags":[],"utmtags":[],"stage":[],"doNotContact":[],"frequencyRules":[]},"timestamp":"' +
      TS +
      '"}],"mautic.form_on_submit":[{"submission":{"id":1,"ipAddress":[],"form":[],"lead":[],' +
      '"page":[],"results":[]},"timestamp":"' +
      TS +
      '"}],"mautic.email_on_send":[{"email":{"id":3,"category":[]},"contact":[],"headers":[],' +
      '"source":[]}],"mautic.lead_channel_subscription_changed":[{"contact":[]}]}'
    const [saved, form, send, change] = parseMauticWebhook(body)
    expect(saved!.contact).toEqual({
      id: 5,
      email: 'a@exemple.fr',
      fields: { email: 'a@exemple.fr' },
      tags: [],
      doNotContact: [],
      ipAddresses: ['192.0.2.1'],
      dateModified: null,
    })
    expect(form!.submission).toMatchObject({ formId: null, ip: null, pageId: null, results: {} })
    expect(form!.contact).toBeNull()
    expect(send!.emailSend).toMatchObject({ emailId: 3, categoryId: null, source: null })
    // `[]` headers: no List-Unsubscribe at all, which Mautic 5 does only for transactional sends.
    expect(send!.emailSend!.isTransactional).toBe(true)
    expect(change).toMatchObject({ mauticId: null, contact: null })
    expect(change!.channelChange).toBeUndefined()
  })

  it('ids as strings or numbers; anything else is no id', () => {
    const body = phpJsonEncode({
      'mautic.lead_post_delete': [{ id: '42', contact: { id: null }, timestamp: TS }],
      'mautic.lead_post_save_update': [
        {
          contact: {
            id: '7',
            doNotContact: [
              { id: '1', reason: '2', comments: null, channel: 'email', channelId: '12' },
              { id: 2, reason: 0, comments: '', channel: 'email', channelId: null }, // contactable
              { id: 3, reason: 3, comments: '', channelId: 1 }, // no channel
            ],
          },
        },
        ...['7x', '0', -1, 1.5, '', ' 7', '0x10', true, '99999999999999999'].map((id) => ({
          contact: { id },
        })),
      ],
      'mautic.form_on_submit': [
        { submission: { id: '901', form: { id: '3' }, page: { id: '5' } } },
      ],
      'mautic.email_on_send': [
        { email: { id: '8', category: { id: '2' } }, source: ['email', '8'] },
      ],
    })
    const [del, saved, ...rest] = parseMauticWebhook(body)
    expect(del!.mauticId).toBe(42)
    expect(saved!.mauticId).toBe(7)
    expect(saved!.contact!.doNotContact).toEqual([
      { channel: 'email', reason: 2, comments: null, channelId: 12 },
    ])
    const bad = rest.slice(0, 9)
    expect(bad.map((e) => e.mauticId)).toEqual(Array(9).fill(null))
    const [form, send] = rest.slice(9)
    expect(form!.submission).toMatchObject({ id: 901, formId: 3, pageId: 5 })
    expect(send!.emailSend).toMatchObject({ emailId: 8, categoryId: 2, source: ['email', 8] })
  })

  it('PHP-serialised properties are ignored, never unserialised', () => {
    const evil = 'O:8:"stdClass":1:{s:5:"value";s:4:"evil";}'
    const contact = contactFixture({ id: 1, email: 'a@exemple.fr', shape: 'db' })
    const core = (contact.fields as Record<string, Record<string, Json>>).core!
    core.firstname = { ...core.firstname!, properties: evil, value: 'Anne' }
    const body = webhookBody([leadSaved('update', contact, TS)])
    expect(body).toContain('"properties":"a:1:{s:4:\\"list\\";s:11:\\"Mr|Mrs|Miss\\";}"')
    const e = only(body)
    expect(e.contact!.fields.firstname).toBe('Anne')
    expect(Object.values(e.contact!.fields)).not.toContain('evil')
  })

  it('accents, emoji and \\/ round-trip from the escaped bytes', () => {
    const body = String.raw`{"mautic.lead_post_save_update":[{"contact":{"id":7,"fields":{"core":{"firstname":{"alias":"firstname","value":"H\u00e9l\u00e8ne \ud83d\ude00"},"website":{"alias":"website","value":"https:\/\/www.exemple.fr\/a?b=\"c\""},"email":{"alias":"email","value":"h\u00e9l\u00e8ne@exemple.fr"}}},"tags":[{"id":1,"tag":"salon\/2025","description":null}]},"timestamp":"2025-03-14T09:26:54+00:00"}]}`
    expect(body).toMatch(/^[\x20-\x7e]+$/) // really the escaped wire bytes
    const c = only(body).contact!
    expect(c.fields.firstname).toBe('Hélène 😀')
    expect(c.fields.website).toBe('https://www.exemple.fr/a?b="c"')
    expect(c.email).toBe('hélène@exemple.fr')
    expect(c.tags).toEqual(['salon/2025'])

    const fixture = realisticBody5k()
    expect(fixture).toMatch(/^[\x20-\x7e]+$/)
    expect(fixture).toContain('"value":"H\\u00e9l\\u00e8ne"')
    expect(fixture).toContain('"timezone":"Europe\\/Paris"')
    const e = only(fixture)
    expect(e.contact).toMatchObject({ id: 4217, email: 'helene.lefevre-chateau@exemple.fr' })
    expect(e.contact!.fields).toMatchObject({ lastname: 'Lefèvre-Château', city: 'Besançon' })
    expect(e.contact!.tags).toEqual(['newsletter', 'clients-fidèles', 'salon/2025'])
    expect(fixture.length).toBeGreaterThan(4500)
    expect(fixture.length).toBeLessThan(6500)
  })

  it('several types in one body: grouped by type, document order kept within each', () => {
    const a = contactFixture({ id: 1, email: 'a@exemple.fr' })
    const b = contactFixture({ id: 2, email: 'b@exemple.fr', shape: 'memory' })
    const change = { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' }
    const events = parseMauticWebhook(
      webhookBody([
        leadSaved('update', a, TS),
        channelChanged(a, change, TS),
        leadSaved('update', b, '2025-03-14T09:27:00+00:00'),
        channelChanged(b, { ...change, newStatus: 'bounced' }, '2025-03-14T09:27:00+00:00'),
        leadSaved('new', a, TS),
      ]),
    )
    expect(events.map((e) => [e.index, e.type.slice(7), e.mauticId])).toEqual([
      [0, 'lead_post_save_update', 1],
      [1, 'lead_post_save_update', 2],
      [2, 'lead_channel_subscription_changed', 1],
      [3, 'lead_channel_subscription_changed', 2],
      [4, 'lead_post_save_new', 1],
    ])
    expect(events[3]!.channelChange!.newStatus).toBe('bounced')
  })

  it('an unknown type is kept as an event with known: false', () => {
    const c = contactFixture({ id: 3, email: 'c@exemple.fr' })
    const events = parseMauticWebhook(
      webhookBody([
        ['mautic.email_on_click', { contact: c, timestamp: TS }],
        ['custom', { contact: c }],
      ]),
    )
    expect(events.map((e) => [e.type, e.known, e.mauticId, e.contact?.email])).toEqual([
      ['mautic.email_on_click', false, 3, 'c@exemple.fr'],
      ['custom', false, 3, 'c@exemple.fr'],
    ])
  })

  it("recognises Mautic's Send test payload by its top-level timestamp: no event in it counts", () => {
    const [, element] = leadSaved('update', contactFixture({ id: 1, email: 'a@exemple.fr' }), TS)
    const body = phpJsonEncode({
      'mautic.lead_post_save_update': [element],
      timestamp: '2025-08-06T11:37:29+00:00',
    })
    expect(parseMauticDelivery(body)).toEqual({
      test: true,
      types: ['mautic.lead_post_save_update'],
      events: [],
    })
    expect(parseMauticWebhook(body)).toEqual([])
    // A real delivery has only event lists at the top.
    const real = phpJsonEncode({ 'mautic.lead_post_save_update': [element] })
    expect(parseMauticDelivery(real)).toMatchObject({ test: false, events: [{ mauticId: 1 }] })
  })

  it('measures nesting on the bytes, outside strings, without recursing', () => {
    const deep = (n: number) => new TextEncoder().encode('['.repeat(n) + ']'.repeat(n))
    expect(jsonDepthExceeds(deep(64))).toBe(false)
    expect(jsonDepthExceeds(deep(65))).toBe(true)
    expect(jsonDepthExceeds(deep(20_000))).toBe(true)
    // Brackets inside strings, escaped quotes included, do not count.
    const inString = new TextEncoder().encode(`{"a":"${'[{'.repeat(100)}\\"x\\\\"}`)
    expect(jsonDepthExceeds(inString)).toBe(false)
  })

  it('skips non-list values and non-object elements without failing', () => {
    const el = { contact: { id: 9 }, timestamp: TS }
    expect(parseMauticWebhook(phpJsonEncode({ 'mautic.lead_post_save_update': el }))).toEqual([])
    expect(parseMauticWebhook('{"mautic.a":null,"mautic.b":"x","mautic.c":7}')).toEqual([])
    expect(parseMauticWebhook('{}')).toEqual([])
    const events = parseMauticWebhook(
      phpJsonEncode({ 'mautic.lead_post_save_update': [null, 5, 'x', [], el] }),
    )
    expect(events.map((e) => [e.index, e.mauticId])).toEqual([[4, 9]])
  })

  it.each(['', 'garbage', '{"a":', 'null', '42', '"body"', 'true', '[]', '[{"contact":{}}]'])(
    'rejects %j with WebhookPayloadError',
    (body) => {
      expect(() => parseMauticWebhook(body)).toThrow(WebhookPayloadError)
    },
  )

  it('dates: PHP c format with any offset, zone-less as UTC, garbage as null', () => {
    const at = (timestamp: unknown) =>
      only(phpJsonEncode({ 'mautic.lead_post_save_update': [{ timestamp }] })).timestamp
    expect(at('2017-12-01T00:05:18-06:00')).toBe(Date.UTC(2017, 11, 1, 6, 5, 18))
    expect(at('2025-03-14 09:26:54')).toBe(TS_MS)
    for (const bad of ['yesterday', '', null, 1741944414, []]) expect(at(bad)).toBeNull()
  })

  it('older shapes: `lead` for the contact, `ip` for the address, fields.all', () => {
    const e = only(
      phpJsonEncode({
        'mautic.lead_post_save_update': [
          {
            lead: {
              id: 3,
              fields: { all: { email: 'x@exemple.fr', firstname: 'X', obj: { a: 1 } } },
              ipAddresses: [{ ip: '192.0.2.9', id: 1, ipDetails: [] }],
            },
          },
        ],
      }),
    )
    expect(e.contact).toMatchObject({ id: 3, email: 'x@exemple.fr', ipAddresses: ['192.0.2.9'] })
    expect(e.contact!.fields).toEqual({ email: 'x@exemple.fr', firstname: 'X' })
    // Groups win over `all`, which only fills what they lack.
    const both = only(
      phpJsonEncode({
        'mautic.x': [
          {
            contact: {
              fields: { core: { city: { value: 'Lyon' } }, all: { city: 'Paris', zip: '1' } },
            },
          },
        ],
      }),
    )
    expect(both.contact!.fields).toEqual({ city: 'Lyon', zip: '1' })
  })

  it("email_on_send's top-level contact fields: used when fields lack them", () => {
    const flat = only(
      phpJsonEncode({
        'mautic.email_on_send': [
          {
            email: { id: 3 },
            contact: {
              id: '5',
              fields: { core: { email: { alias: 'email', value: null } } },
              email: ' b@exemple.fr ',
              firstname: 'Bé',
              points: 12, // an entity property, not a field
            },
          },
        ],
      }),
    )
    expect(flat.contact).toMatchObject({ id: 5, email: 'b@exemple.fr' })
    expect(flat.contact!.fields).toEqual({ email: ' b@exemple.fr ', firstname: 'Bé' })
  })
})

describe('receiptKey', () => {
  const contact = contactFixture({
    id: 42,
    email: 'anne@exemple.fr',
    firstname: 'Anne',
    tags: ['newsletter'],
    dnc: [{ reason: 1, comments: 'User unsubscribed.' }],
    ip: '203.0.113.7',
  })
  const keyOf = (fixture: EventFixture) => receiptKey(parseOne(fixture), webSha256)

  it('is short, readable, and the same for the same element however it was encoded', async () => {
    const fixture = leadSaved('update', contact, TS)
    const key = await keyOf(fixture)
    expect(key).toMatch(/^lead_post_save_update:42:1741944414:[0-9a-f]{24}$/)
    expect(await keyOf(fixture)).toBe(key)
    // Re-encoded without PHP's escapes (raw UTF-8, bare slashes): other bytes, same element.
    const body = webhookBody([fixture])
    const plain = JSON.stringify(JSON.parse(body))
    expect(plain).not.toBe(body)
    expect(await receiptKey(only(plain), webSha256)).toBe(key)
    // A synchronous digest (node:crypto on Node) gives the WebCrypto result.
    expect(await receiptKey(parseOne(fixture), nodeSha256)).toBe(key)
  })

  const mutations: [string, (el: Json) => void][] = [
    ['the timestamp', (el) => (el.timestamp = '2025-03-14T09:26:55+00:00')],
    ['a field value', (el) => (fieldsOf(el).core!.firstname!.value = 'Anna')],
    ['a field of another group', (el) => (fieldsOf(el).social!.twitter!.value = '@anne')],
    ['a tag', (el) => ((el.contact as Json).tags = [{ id: 1, tag: 'vip', description: null }])],
    ['a DNC comment', (el) => ((el.contact as any).doNotContact[0].comments = 'Manuel')],
    ['an IP detail', (el) => ((el.contact as any).ipAddresses[0].ipDetails.city = 'Paris')],
    ['dateModified', (el) => ((el.contact as Json).dateModified = '2025-03-14T09:26:54+00:00')],
  ]
  const fieldsOf = (el: Json) =>
    (el.contact as Json).fields as Record<string, Record<string, Record<string, unknown>>>

  it.each(mutations)('differs when %s changes', async (_what, mutate) => {
    const [type, element] = leadSaved('update', contact, TS)
    const before = await keyOf([type, element])
    const changed = structuredClone(element)
    mutate(changed)
    expect(await keyOf([type, changed])).not.toBe(before)
  })

  it('differs for the same element under another type, or another contact', async () => {
    const [, element] = leadSaved('update', contact, TS)
    const update = await keyOf(['mautic.lead_post_save_update', element])
    expect(await keyOf(['mautic.lead_post_save_new', element])).not.toBe(update)
    const other = contactFixture({ id: 43, email: 'anne@exemple.fr', firstname: 'Anne' })
    expect(await keyOf(leadSaved('update', other, TS))).toMatch(/^lead_post_save_update:43:/)
  })

  it('differs for any two different firstnames (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        async (x, y) => {
          const k = (firstname: string) =>
            keyOf(leadSaved('update', contactFixture({ id: 42, email: 'a@b.fr', firstname }), TS))
          expect((await k(x)) === (await k(y))).toBe(x === y)
        },
      ),
      { numRuns: 50 },
    )
  })

  it('stays within 80 characters, with - for what is unknown', async () => {
    const long = 'x'.repeat(200)
    const a = await receiptKey(only(`{"${long}a":[{}]}`), webSha256)
    const b = await receiptKey(only(`{"${long}b":[{}]}`), webSha256)
    expect(a.length).toBeLessThanOrEqual(80)
    expect(a).not.toBe(b)
    const worst = await keyOf(
      channelChanged(
        contactFixture({ id: 9_007_199_254_740_991, email: 'a@exemple.fr' }),
        { channel: 'email', oldStatus: 'contactable', newStatus: 'manual' },
        '2286-11-20T17:46:39+00:00',
      ),
    )
    expect(worst.length).toBeLessThanOrEqual(80)
    expect(await receiptKey(only('{"mautic.page_on_hit":[{}]}'), webSha256)).toMatch(
      /^page_on_hit:-:-:[0-9a-f]{24}$/,
    )
  })
})

describe('property: any contact survives PHP encoding', () => {
  it('recovers the e-mail and names exactly, in both shapes and from email_on_send', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 })
    fc.assert(
      fc.property(
        text.filter((s) => s !== '' && s.trim() === s),
        text,
        text,
        fc.oneof(
          fc.integer({ min: 1, max: 2 ** 31 }),
          fc.nat().map((n) => String(n + 1)),
        ),
        fc.constantFrom('memory' as const, 'db' as const),
        fc.boolean(),
        (email, firstname, lastname, id, shape, viaSend) => {
          const contact = contactFixture({ id, email, firstname, lastname, shape })
          const fixture = viaSend
            ? emailSent({ emailId: 1, contact, timestamp: TS, bodyBytes: 0 })
            : leadSaved('update', contact, TS)
          const body = webhookBody([fixture])
          expect(body).toMatch(/^[\x20-\x7e]+$/)
          const e = only(body)
          expect(e.mauticId).toBe(Number(id))
          expect(e.contact!.email).toBe(email)
          expect(e.contact!.fields.firstname).toBe(firstname === '' ? null : firstname)
          expect(e.contact!.fields.lastname).toBe(lastname === '' ? null : lastname)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('phpJsonEncode', () => {
  it.each([
    [{ a: 'é/😀' }, String.raw`{"a":"\u00e9\/\ud83d\ude00"}`],
    [
      { e: {}, l: [], n: null, t: true, f: false, i: -12, x: 1.5 },
      '{"e":[],"l":[],"n":null,"t":true,"f":false,"i":-12,"x":1.5}',
    ],
    ['"\\\b\f\n\r\t\u0001\u001f\u007f', String.raw`"\"\\\b\f\n\r\t\u0001\u001f` + '\u007f"'],
    ['€ ÿ Ā 中', String.raw`"\u20ac \u00ff \u0100 \u4e2d"`],
    [{ 0: 'a', 1: 'b' }, '["a","b"]'],
    [{ 1: 'a' }, '{"1":"a"}'],
    [[{ 'k/é': [] }], String.raw`[{"k\/\u00e9":[]}]`],
    [{ a: undefined, b: 1 }, '{"b":1}'],
  ])('%j → %s, as PHP json_encode', (value, php) => {
    expect(phpJsonEncode(value)).toBe(php)
  })

  it('refuses what PHP cannot encode: lone surrogates, NAN', () => {
    expect(() => phpJsonEncode('\ud83d')).toThrow()
    expect(() => phpJsonEncode('\ude00x')).toThrow()
    expect(() => phpJsonEncode(NaN)).toThrow()
  })

  it('decodes back to the same string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(JSON.parse(phpJsonEncode(s))).toBe(s)
      }),
    )
  })
})

describe('signMautic', () => {
  it("equals node:crypto's createHmac(sha256).digest('base64') over the raw body", async () => {
    const secret = 'a'.repeat(64)
    for (const body of [realisticBody5k(), '{"x":"é raw UTF-8"}', '']) {
      const expected = createHmac('sha256', secret).update(body).digest('base64')
      expect(await signMautic(body, secret)).toBe(expected)
    }
    const sig = await signMautic('{}', 'clé secrète')
    expect(sig).toBe(createHmac('sha256', 'clé secrète').update('{}').digest('base64'))
    expect(sig).toHaveLength(44)
  })
})
