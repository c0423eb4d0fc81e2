/**
 * @module Staff roles and what each may do (GDPR Art. 5(1)(f), 25, 32: access to personal data on a
 * need-to-know basis). Every admin route and admin API operation names the permission it needs; a
 * session or an API key with the `admin` scope is checked against this one table.
 */

export const ROLES = ['owner', 'admin', 'dpo', 'marketer', 'viewer'] as const
export type Role = (typeof ROLES)[number]

/** Roles that must use a second factor (they reach personal data or the console's settings). */
export const SECOND_FACTOR_REQUIRED: ReadonlySet<Role> = new Set(['owner', 'admin', 'dpo'])

export const PERMISSIONS = {
  /** The dashboard and aggregate figures (no personal data). */
  'dashboard.read': ['owner', 'admin', 'dpo', 'marketer', 'viewer'],
  /** A contact's consent states per purpose, without personal data in clear. */
  'contacts.read': ['owner', 'admin', 'dpo', 'marketer', 'viewer'],
  /** Personal data in clear: addresses, attributes, evidence (IP, user agent). */
  'contacts.personal': ['owner', 'admin', 'dpo'],
  /** Withdraw a purpose or record an objection on a person's behalf. */
  'contacts.act': ['owner', 'admin', 'dpo'],
  /** Erase a contact (Art. 17); also needs a fresh second factor. */
  'contacts.erase': ['owner', 'admin', 'dpo'],
  /** Exports of personal data and proof bundles; also need a fresh second factor. */
  'exports.personal': ['owner', 'admin', 'dpo'],
  /** Data-subject requests: read, work through, extend. */
  'requests.manage': ['owner', 'admin', 'dpo'],
  'purposes.read': ['owner', 'admin', 'dpo', 'marketer', 'viewer'],
  /** Add purposes, publish notices, forms and Mautic mappings. */
  'purposes.manage': ['owner', 'admin', 'marketer'],
  /** The audit log: browse, verify, export. */
  'audit.read': ['owner', 'admin', 'dpo'],
  /** Verify the consent ledger and the audit chain. */
  'ledger.verify': ['owner', 'admin', 'dpo'],
  /** Data inventory, processors, incidents, findings. */
  'compliance.manage': ['owner', 'admin', 'dpo'],
  'compliance.read': ['owner', 'admin', 'dpo', 'viewer'],
  /** Mautic connection and sync, outbox, mail transport test. */
  'integration.manage': ['owner', 'admin'],
  'integration.read': ['owner', 'admin', 'dpo', 'marketer', 'viewer'],
  /** API keys: create (also a fresh second factor), list, revoke. */
  'keys.manage': ['owner', 'admin'],
  /** Staff accounts: invite, change roles, disable, lift a lock-out; also a fresh second factor. */
  'users.manage': ['owner'],
  /** The organisation's settings. */
  'settings.manage': ['owner', 'admin'],
} as const satisfies Record<string, readonly Role[]>

export type Permission = keyof typeof PERMISSIONS

export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (ROLES as readonly string[]).includes(value)

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role)
}

/** Every permission a role holds (for the navigation and the README's table). */
export const permissionsOf = (role: Role): Permission[] =>
  (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p))
