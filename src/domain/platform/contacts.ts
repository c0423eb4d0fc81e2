/**
 * @module Contacts: found by address (blind index) or created, with personal fields encrypted and a
 * per-contact data key for ledger evidence. Destroying that key (erasure) makes the evidence unreadable
 * while the ledger's hashes, computed over ciphertext, still verify (crypto-shredding).
 */
import type { CompiledQuery } from 'kysely'
import {
  findContactByBlindIndexes,
  findContactById,
  insertContactQuery,
  type ContactRow,
} from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes } from '../../lib/email.ts'
import { fromBase64Url, toBase64Url, utf8, fromUtf8, type Bytes } from '../../lib/encoding.ts'
import type { Locale } from '../../lib/i18n.ts'
import { decryptField, encryptField, openBytes, sealBytes, type Keys } from '../../lib/keys.ts'

export interface ContactContext {
  row: ContactRow
  /** True when the insert of this contact is part of the unit being built. */
  isNew: boolean
  /** Raw AES-GCM key for this contact's evidence; null once erased. */
  dataKey: Bytes | null
  insert: CompiledQuery[]
}

const dataKeyAad = (contactId: string) => `contacts.data_key:${contactId}`
export type { ContactRow }

/** A contact by id, whatever its status (erased contacts keep their row). */
export const findContact = (deps: Pick<Deps, 'db'>, id: string): Promise<ContactRow | undefined> =>
  findContactById(deps.db, id)

/** A contact by id, only while active (not erased). */
export async function findActiveContact(
  deps: Pick<Deps, 'db'>,
  id: string,
): Promise<ContactRow | undefined> {
  const contact = await findContactById(deps.db, id)
  return contact?.status === 'active' ? contact : undefined
}

export const emailAad = (contactId: string) => `contacts.email:${contactId}`
export const attributesAad = (contactId: string) => `contacts.attributes:${contactId}`

export async function contactDataKey(
  deps: Pick<Deps, 'keys'>,
  row: Pick<ContactRow, 'id' | 'data_key_enc'>,
): Promise<Bytes | null> {
  if (!row.data_key_enc) return null
  return fromBase64Url(await decryptField(deps.keys, row.data_key_enc, dataKeyAad(row.id)))
}

/** The existing contact for this normalised address, or a new one (not yet written: see `insert`). */
export async function prepareContact(
  deps: Pick<Deps, 'db' | 'keys' | 'hmac' | 'clock'>,
  normalizedEmail: string,
  locale: Locale,
  attributes?: Record<string, string>,
): Promise<ContactContext> {
  const bidxes = await blindIndexes(deps.hmac, deps.keys, normalizedEmail)
  const existing = await findContactByBlindIndexes(deps.db, bidxes)
  if (existing && existing.status === 'active')
    return {
      row: existing,
      isNew: false,
      dataKey: await contactDataKey(deps, existing),
      insert: [],
    }

  return newContact(deps, normalizedEmail, bidxes[0]!, locale, attributes)
}

/**
 * A new contact for an address no contact has (not yet written: see `insert`), its blind index
 * already computed: its id, its encrypted fields and a fresh data key. `prepareContact` calls it once
 * the look-up found nobody; a bulk import that knows the addresses are new may call it directly, and
 * may draw the ids itself (random v4 all the same) to write its contacts in id order, which fills the
 * B-trees keyed by contact id page after page instead of dirtying a page anywhere per contact.
 */
export async function newContact(
  deps: Pick<Deps, 'db' | 'keys' | 'clock'>,
  normalizedEmail: string,
  bidx: string,
  locale: Locale,
  attributes?: Record<string, string>,
  // v4: a contact id travels in links and must not reveal when it was made
  id: string = crypto.randomUUID(),
): Promise<ContactContext> {
  const now = deps.clock.now()
  const rawKey = crypto.getRandomValues(new Uint8Array(32))
  const row: ContactRow = {
    id,
    email_enc: await encryptField(deps.keys, normalizedEmail, emailAad(id)),
    email_bidx: bidx,
    bidx_kid: deps.keys.current.kid,
    locale,
    attributes_enc: attributes
      ? await encryptField(deps.keys, JSON.stringify(attributes), attributesAad(id))
      : null,
    data_key_enc: await encryptField(deps.keys, toBase64Url(rawKey), dataKeyAad(id)),
    status: 'active',
    objected_at: null,
    created_at: now,
    updated_at: now,
    erased_at: null,
  }
  return {
    row,
    isNew: true,
    dataKey: rawKey,
    insert: [insertContactQuery(deps.db, row)],
  }
}

export async function contactEmail(
  deps: Pick<Deps, 'keys'>,
  row: ContactRow,
): Promise<string | null> {
  return row.email_enc ? decryptField(deps.keys, row.email_enc, emailAad(row.id)) : null
}

/** Evidence (IP, user agent…) encrypted under the contact's own key. */
export function sealEvidence(
  keys: Keys,
  dataKey: Bytes,
  evidence: object,
  aad: string,
): Promise<string> {
  return sealBytes(keys.aead, dataKey, utf8(JSON.stringify(evidence)), aad)
}

export async function openEvidence(
  keys: Keys,
  dataKey: Bytes,
  sealed: string,
  aad: string,
): Promise<Record<string, unknown>> {
  return JSON.parse(fromUtf8(await openBytes(keys.aead, dataKey, sealed, aad))) as Record<
    string,
    unknown
  >
}
