/**
 * @module The consent history of each contact of the seeded database (bench/seed/build.ts): what
 * happened to it, when, by which method, with which evidence, decided by its number alone, so that a
 * database built twice tells the same story (ids, IVs and keys differ: they are random by design).
 * Five events a contact, as the issue's 1,000,000 contacts and 5,000,000 events ask, drawn from a few
 * life stories with the shares a newsletter list might show: most confirm, some withdraw one purpose,
 * a few never confirm. Wording is the seeded notices' (migrations/0003_seed_purposes.sql), version 1.
 */
import type { ConsentAction } from '../../src/db/database.ts'
import type { Locale } from '../../src/lib/i18n.ts'

export const EVENTS_PER_CONTACT = 5

/** The address of seeded contact `i`: what the gate-by-e-mail scenarios ask for. */
export const seededAddress = (i: number) => `bench${i}@example.test`

export interface SeedEvent {
  purposeKey: string
  action: ConsentAction
  method: string
  source: string
  /** Milliseconds after the contact was created. */
  after: number
}

export interface SeedContact {
  email: string
  locale: Locale
  /** Epoch ms: when the contact (and its first event) was recorded. */
  createdAt: number
  events: SeedEvent[]
  /** Evidence shared by the contact's events (each event adds its notice's hash and locale). */
  ip: string
  userAgent: string
}

const MINUTE = 60_000
const DAY = 86_400_000

/** Deterministic 32-bit PRNG (mulberry32): the same contact number always draws the same story. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

type Story = (rand: () => number, span: number) => SeedEvent[]

const e = (
  purposeKey: string,
  action: ConsentAction,
  method: string,
  source: string,
  after: number,
): SeedEvent => ({ purposeKey, action, method, source, after })

/** Somewhere between `from` and the end of the contact's time (what is left of the span). */
const later = (rand: () => number, from: number, span: number) =>
  from + Math.floor(rand() * Math.max(span - from, MINUTE))

/** Each story returns exactly EVENTS_PER_CONTACT events, in time order. */
const STORIES: [share: number, story: Story][] = [
  // Signs up to the newsletter on the site's form, confirms, accepts cookies, later the marketing mails.
  [
    0.5,
    (r, span) => {
      const confirm = 2 * MINUTE + Math.floor(r() * 60 * MINUTE)
      const marketing = later(r, confirm, span)
      return [
        e('newsletter', 'requested', 'form', 'default', 0),
        e('newsletter', 'confirmed', 'double_opt_in', 'default', confirm),
        e('cookies', 'granted', 'form', 'site-banner', confirm + MINUTE),
        e('email_marketing', 'requested', 'api', 'api:crm', marketing),
        e('email_marketing', 'confirmed', 'double_opt_in', 'api:crm', marketing + 10 * MINUTE),
      ]
    },
  ],
  // Confirms the newsletter, accepts then refuses cookies, shares with partners.
  [
    0.2,
    (r, span) => {
      const confirm = 5 * MINUTE + Math.floor(r() * DAY)
      const cookiesOff = later(r, confirm, span)
      return [
        e('newsletter', 'requested', 'mautic', 'mautic-form-3', 0),
        e('newsletter', 'confirmed', 'double_opt_in', 'mautic-form-3', confirm),
        e('cookies', 'granted', 'form', 'site-banner', confirm + MINUTE),
        e('cookies', 'withdrawn', 'preference_center', 'preference_center', cookiesOff),
        e('partner_sharing', 'granted', 'preference_center', 'preference_center', cookiesOff + 1),
      ]
    },
  ],
  // Confirms the newsletter, leaves it by the one-click link of a mail; tracking and ads granted.
  [
    0.15,
    (r, span) => {
      const confirm = MINUTE + Math.floor(r() * 30 * MINUTE)
      const leave = later(r, confirm, span)
      return [
        e('newsletter', 'requested', 'form', 'default', 0),
        e('newsletter', 'confirmed', 'double_opt_in', 'default', confirm),
        e('behavioural_tracking', 'granted', 'form', 'site-banner', confirm + MINUTE),
        e('targeted_advertising', 'granted', 'form', 'site-banner', confirm + MINUTE),
        e('newsletter', 'withdrawn', 'one_click', 'one_click', leave),
      ]
    },
  ],
  // Never confirms the marketing mails (pending); the mobile app's purposes; cookies refused later.
  [
    0.1,
    (r, span) => {
      const app = later(r, MINUTE, span)
      return [
        e('email_marketing', 'requested', 'api', 'api:crm', 0),
        e('cookies', 'granted', 'form', 'site-banner', MINUTE),
        e('push_notifications', 'granted', 'api', 'api:mobile', app),
        e('geolocation', 'granted', 'api', 'api:mobile', app + 1),
        e('cookies', 'withdrawn', 'preference_center', 'preference_center', later(r, app, span)),
      ]
    },
  ],
  // A request that expired unconfirmed; cookies changed twice.
  [
    0.05,
    (r, span) => {
      const off = later(r, 2 * MINUTE, span)
      return [
        e('newsletter', 'requested', 'form', 'default', 0),
        e('cookies', 'granted', 'form', 'site-banner', MINUTE),
        e('newsletter', 'expired', 'system', 'optin-expiry', 30 * DAY),
        e('cookies', 'withdrawn', 'preference_center', 'preference_center', off),
        e('cookies', 'granted', 'form', 'site-banner', later(r, off, span)),
      ]
    },
  ],
]

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
]

/**
 * Contact `i`, created at a time of its own in `[from, until)` (not in number order: the builder
 * writes contacts in id order, and ids must not follow time), its events spread from then to `until`.
 * Events never reach `until`, so a checkpoint taken then covers them.
 */
export function seedContact(i: number, from: number, until: number): SeedContact {
  const rand = prng(i * 2_654_435_761 + 1)
  const span = until - from
  const createdAt = from + Math.floor(rand() * span * 0.9)
  const left = until - createdAt - MINUTE
  let pick = rand()
  let story = STORIES[STORIES.length - 1]![1]
  for (const [share, s] of STORIES) {
    if (pick < share) {
      story = s
      break
    }
    pick -= share
  }
  // Clamped to the time left, then in time order (a stable sort keeps a story's order on a tie).
  const events = story(rand, left)
    .map((ev) => ({ ...ev, after: Math.min(ev.after, left) }))
    .sort((a, b) => a.after - b.after)
  return {
    email: seededAddress(i),
    locale: rand() < 0.8 ? 'fr' : 'en',
    createdAt,
    events,
    ip: `198.51.100.${1 + Math.floor(rand() * 254)}`,
    userAgent: AGENTS[Math.floor(rand() * AGENTS.length)]!,
  }
}

/**
 * Whether contact `i` ends with the newsletter granted (confirmed, never withdrawn): the recipients a
 * campaign on the seeded database sends to. Its story alone decides it, whatever the dates.
 */
export function newsletterGranted(i: number): boolean {
  const last = seedContact(i, 0, 1e12).events.findLast((e) => e.purposeKey === 'newsletter')
  return last?.action === 'confirmed' || last?.action === 'granted'
}
