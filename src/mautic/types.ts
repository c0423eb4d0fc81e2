/**
 * @module The Mautic REST API as the gateway uses it (docs/mautic.md §2). The real client is
 * `createMauticClient` in ./client.ts (fetch only, so it runs on Node and Workers); tests reach it
 * through msw. Ids are numbers here whatever Mautic sent (it sends both strings and numbers).
 */

/** DNC reasons (LeadBundle/Entity/DoNotContact.php): 1 the contact's own unsubscribe, 2 bounce, 3 manual. */
export type DncReason = 1 | 2 | 3

export interface MauticDnc {
  channel: string
  reason: DncReason
  comments: string | null
  channelId: number | null
}

/** A contact as read from `GET /api/contacts/{id}` (REST shape: `fields.all` is a flat map). */
export interface MauticContact {
  /** Differs from the id asked for when Mautic merged that contact away (the winner is returned). */
  id: number
  email: string | null
  /** `fields.all`: alias -> value. */
  fields: Record<string, unknown>
  tags: string[]
  doNotContact: MauticDnc[]
}

/**
 * A contact field as `GET /api/fields/contact` lists it (LeadBundle LeadField::loadApiMetadata): the
 * data inventory imports these (src/domain/compliance/inventory.ts), `mautic connect` creates its own.
 */
export interface MauticField {
  id: number
  alias: string
  label: string
  /** text, textarea, html, email, tel, url, number, boolean, date, datetime, country, lookup, select… */
  type: string
  /** core, social, personal, professional: Mautic's own grouping. */
  group: string
  /** 'lead' for a contact field. */
  object: string
  isPublished: boolean
}

/** A webhook as `GET /api/hooks` lists it (groups hookDetails and publishDetails: its secret too). */
export interface MauticWebhook {
  id: number
  webhookUrl: string
  triggers: string[]
  isPublished: boolean
  /** null when this Mautic did not list it. */
  secret: string | null
}

export interface MauticWebhookInput {
  name: string
  description: string
  webhookUrl: string
  secret: string
  triggers: string[]
  isPublished: boolean
}

/** Every call throws MauticError on failure; `retryable` says whether the outbox should try again. */
export interface MauticApi {
  /** null when the contact does not exist (404). Follows merges: compare the returned id. */
  getContact(id: number): Promise<MauticContact | null>
  /**
   * `POST /api/contacts/new` with just the e-mail: Mautic deduplicates on it (200 with the existing
   * contact, 201 for a new one), so this is "find or create". Returns the contact's id.
   */
  createContact(email: string): Promise<number>
  /** Exact match (`where email eq`), not the LIKE of `search=email:`. */
  findContactsByEmail(email: string): Promise<MauticContact[]>
  /** One page of contacts, ordered by id, for the initial sync. */
  listContacts(page: {
    start: number
    limit: number
  }): Promise<{ total: number; contacts: MauticContact[] }>
  /** PATCH: fields and tags (a leading `-` removes a tag). Returns the contact as saved. */
  editContact(
    id: number,
    changes: { fields?: Record<string, unknown>; tags?: string[] },
  ): Promise<MauticContact>
  addDnc(id: number, channel: string, entry: { reason: DncReason; comments: string }): Promise<void>
  /** true when an entry was removed. Mautic removes whatever the reason: the caller enforces policy. */
  removeDnc(id: number, channel: string): Promise<boolean>
  /** false when it was already gone (404). */
  deleteContact(id: number): Promise<boolean>
  /** `POST /api/emails/{emailId}/contact/{contactId}/send` with tokens (braces added when missing). */
  sendEmail(emailId: number, contactId: number, tokens: Record<string, string>): Promise<void>
  /** For the data-access page (Art. 15): segments, recent activity. */
  contactSegments(id: number): Promise<{ id: number; name: string }[]>
  contactActivity(
    id: number,
    limit: number,
  ): Promise<{ event: string; label: string; timestamp: string }[]>
  /** Every contact field, every page (`GET /api/fields/contact`). */
  listFields(): Promise<MauticField[]>
  /** Returns the alias Mautic gave the field: it may differ from the one asked for (25 characters at most). */
  createField(field: {
    label: string
    alias: string
    type: 'boolean' | 'url' | 'text'
    group?: string
  }): Promise<{ alias: string }>
  listTags(): Promise<string[]>
  createTag(tag: string): Promise<void>
  listWebhooks(): Promise<MauticWebhook[]>
  createWebhook(hook: MauticWebhookInput): Promise<{ id: number }>
  /** `PATCH /api/hooks/{id}/edit` with `isPublished: true`: a webhook Mautic unpublished sends again. */
  publishWebhook(id: number): Promise<void>
  /** Cheap authenticated call: throws MauticError when the URL or credentials are wrong. */
  checkAccess(): Promise<void>
}

export class MauticError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 for a network failure or timeout. */
    readonly status: number,
    /** Mautic's error `type` (`invalid_grant`, `api_disabled`…) when it gave one. */
    readonly type: string | null,
    readonly retryable: boolean,
    /** How long Mautic asked to be left alone (a 429's Retry-After), when longer than the client waits. */
    readonly retryAfterMs?: number,
  ) {
    super(message)
    this.name = 'MauticError'
  }
}

/** What every DNC entry the gateway writes says, so that its echo in a webhook is recognised. */
export const GATEWAY_DNC_COMMENT = 'consent-gateway: no valid consent for e-mail'
