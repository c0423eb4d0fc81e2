/** @module Kysely table types for migrations/ (times are epoch milliseconds). */
import type { CompiledQuery, Generated, Kysely } from 'kysely'

export interface ContactsTable {
  id: string
  email_enc: string | null
  email_bidx: string | null
  bidx_kid: string | null
  locale: 'fr' | 'en'
  attributes_enc: string | null
  data_key_enc: string | null
  status: 'active' | 'erased'
  objected_at: number | null
  created_at: number
  updated_at: number
  erased_at: number | null
}

export interface ContactLinksTable {
  system: string
  external_id: string
  contact_id: string
  linked_at: number
}

export interface PurposesTable {
  key: string
  channel: 'email' | 'sms' | 'push' | 'web' | 'app' | 'data'
  legal_basis: 'consent' | 'legitimate_interest'
  double_opt_in: 0 | 1
  max_consent_age_days: number | null
  position: number
  archived_at: number | null
  created_at: number
}

export interface NoticesTable {
  id: string
  purpose_key: string
  locale: 'fr' | 'en'
  version: number
  title: string
  body: string
  privacy_url: string
  content_hash: string
  requires_reconsent: 0 | 1
  published_at: number | null
  created_at: number
  /** 0014: with requires_reconsent, older consents pass the gate until then (null: at once). */
  reconsent_grace_until: number | null
}

export type ConsentAction =
  'requested' | 'confirmed' | 'granted' | 'withdrawn' | 'expired' | 'erased'

export interface ConsentEventsTable {
  id: string
  contact_id: string
  seq: number
  purpose_key: string
  action: ConsentAction
  notice_id: string | null
  method: string
  source: string
  evidence_enc: string | null
  actor: string
  occurred_at: number
  recorded_at: number
  prev_hash: string
  hash: string
}

export interface ConsentStateTable {
  contact_id: string
  purpose_key: string
  status: 'pending' | 'granted' | 'withdrawn' | 'expired'
  notice_id: string | null
  notice_version: number | null
  notice_locale: 'fr' | 'en' | null
  granted_at: number | null
  changed_at: number
  last_event_id: string
}

export interface SuppressionsTable {
  email_bidx: string
  bidx_kid: string
  reason: 'erased' | 'objected'
  created_at: number
}

export interface OutboxTable {
  id: string
  kind: string
  ordering_key: string | null
  payload: string
  status: 'pending' | 'done' | 'dead'
  attempts: number
  next_attempt_at: number
  locked_until: number | null
  last_error: string | null
  created_at: number
  done_at: number | null
}

export interface WebhookReceiptsTable {
  key: string
  source: string
  event_type: string
  received_at: number
  /** 0004: queued, applied, stale, echo, ignored. */
  outcome: string | null
  /** 0013: 1 once counted in the `webhook_events` daily counter (NULL: written before 0013, not yet). */
  counted: number | null
}

// 0007_admin.sql (replaces 0001's drafts of audit_log, admin_users and sessions)

export type AdminRole = 'owner' | 'admin' | 'dpo' | 'marketer' | 'viewer'

export interface AuditLogTable {
  seq: number
  id: string
  at: number
  actor: string
  action: string
  outcome: 'ok' | 'denied' | 'failed'
  target: string | null
  ip: string | null
  user_agent: string | null
  details: string
  prev_hash: string
  hash: string
}

export interface AdminUsersTable {
  id: string
  email_enc: string
  email_bidx: string
  bidx_kid: string
  role: AdminRole
  status: 'invited' | 'active' | 'disabled'
  locale: 'fr' | 'en'
  password_alg: 'pbkdf2-sha256' | null
  password_iterations: number | null
  password_salt: string | null
  password_hash: string | null
  totp_secret_enc: string | null
  totp_enabled_at: number | null
  totp_last_step: number | null
  created_at: number
  updated_at: number
  last_sign_in_at: number | null
  disabled_at: number | null
}

export interface RecoveryCodesTable {
  id: string
  admin_user_id: string
  code_hash: string
  created_at: number
  used_at: number | null
}

export interface PasskeysTable {
  id: string
  admin_user_id: string
  public_key: string
  counter: number
  transports: string
  name: string
  created_at: number
  last_used_at: number | null
}

export interface SessionsTable {
  id: string
  admin_user_id: string
  created_at: number
  last_seen_at: number
  second_factor_at: number | null
  step_up_at: number | null
  ip: string | null
  user_agent: string | null
  revoked_at: number | null
}

export interface SetupLinksTable {
  id: string
  token_hash: string
  admin_user_id: string | null
  kind: 'setup' | 'invite'
  created_by: string
  created_at: number
  expires_at: number
  used_at: number | null
}

export interface WebauthnChallengesTable {
  challenge: string
  purpose: 'register' | 'authenticate'
  admin_user_id: string | null
  expires_at: number
}

export interface SigninThrottleTable {
  key: string
  failures: number
  last_failure_at: number
  next_allowed_at: number
  locked_at: number | null
}

export interface ApiKeysTable {
  id: string
  name: string
  secret_hash: string
  scopes: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

// 0002_consent.sql

export interface OptinRequestsTable {
  id: string
  contact_id: string
  purposes: string
  notices: string
  locale: 'fr' | 'en'
  source: string
  status: 'pending' | 'confirmed' | 'expired'
  created_at: number
  expires_at: number
  confirmed_at: number | null
  last_sent_at: number | null
  send_count: number
}

export interface FormsTable {
  key: string
  purposes: string
  created_at: number
}

export interface LedgerCheckpointsTable {
  id: string
  covered_until: number
  chain_count: number
  event_count: number
  heads_digest: string
  signature: string
  created_at: number
  /** 0007: the audit chain's head at the checkpoint (NULL on older checkpoints). */
  audit_seq: number | null
  audit_hash: string | null
}

export interface SigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  private_jwk_enc: string
  created_at: number
  retired_at: number | null
}

export interface RateLimitsTable {
  key: string
  window_start: number
  count: number
}

export interface MailLogTable {
  id: string
  created_at: number
  recipient_enc: string
  subject: string
  message: string
}

// 0004_mautic.sql

export interface MauticFormFieldsTable {
  form_id: string
  field_alias: string
  purpose_key: string
  notice_version: number
  locale: 'fr' | 'en'
  created_at: number
}

export interface MauticEmailPurposesTable {
  kind: 'email' | 'category'
  ref: string
  purpose_key: string
  created_at: number
}

export interface MauticMirrorTable {
  mautic_id: string
  contact_id: string | null
  own_unsubscribe_at: number | null
  bounced_at: number | null
  mirrored_state: string | null
  mirrored_at: number | null
  pending_changes: string | null
  observed_at: number | null
}

/** The Mautic connector's findings, then the monitor's (0014; src/domain/platform/findings.ts). */
export type FindingKind =
  | 'send_without_consent'
  | 'unproven_consent_claim'
  | 'no_proof'
  | 'bounced'
  | 'blocked_send_attempts'
  | 'dsr_due_soon'
  | 'dsr_overdue'
  | 'reconsent_pending'
  | 'admin_without_second_factor'
  | 'webhook_silent'
  | 'webhook_unpublished'
  | 'outbox_dead_letters'
  | 'backup_stale'
  | 'chain_broken'
  | 'review_due'

export type FindingSeverity = 'high' | 'medium' | 'low'

export interface ComplianceFindingsTable {
  id: string
  kind: FindingKind
  /** 0014: what a monitor finding is about ('dsr:<id>', 'outbox'…); one open per (kind, subject). */
  subject: string | null
  severity: FindingSeverity
  contact_id: string | null
  mautic_id: string | null
  purpose_key: string | null
  details: string
  created_at: number
  updated_at: number | null
  resolved_at: number | null
  resolution: string | null
  /** The last alert that named it (at most one a day). */
  alerted_at: number | null
}

export interface MauticFieldsTable {
  purpose_key: string
  alias: string
  created_at: number
}

export interface WebhookSecretsTable {
  id: string
  source: string
  secret_enc: string
  origin: 'generated' | 'recovered'
  webhook_id: string | null
  created_at: number
}

export interface WebhookHealthTable {
  source: string
  last_received_at: number | null
  last_refused_at: number | null
  last_refused_reason: string | null
  webhook_id: string | null
  webhook_url: string | null
  /** 1 published, 0 unpublished, null never checked. */
  published: number | null
  checked_at: number | null
}

export interface D1MigrationsTable {
  id: Generated<number>
  name: string
  applied_at: Generated<string>
}

// 0013_console_counters.sql

export interface DailyCountersTable {
  /** A counter of src/domain/platform/counters.ts. */
  name: string
  /** UTC date, YYYY-MM-DD. */
  day: string
  dim1: string
  dim2: string
  dim3: string
  count: number
  last_at: number
}

export interface CounterBackfillTable {
  source: 'consent_events' | 'webhook_receipts'
  cursor: string
  boundary: number | null
  total: number
  done: number
  finished_at: number | null
}

export interface DsrHistoryTable {
  id: string
  request_id: string
  at: number
  actor: string
  step: string
  note_enc: string | null
}

export interface SettingsTable {
  key: string
  value: string
  updated_at: number
  updated_by: string
}

export interface Database {
  contacts: ContactsTable
  contact_links: ContactLinksTable
  purposes: PurposesTable
  notices: NoticesTable
  consent_events: ConsentEventsTable
  consent_state: ConsentStateTable
  suppressions: SuppressionsTable
  outbox: OutboxTable
  webhook_receipts: WebhookReceiptsTable
  audit_log: AuditLogTable
  admin_users: AdminUsersTable
  sessions: SessionsTable
  recovery_codes: RecoveryCodesTable
  passkeys: PasskeysTable
  setup_links: SetupLinksTable
  webauthn_challenges: WebauthnChallengesTable
  signin_throttle: SigninThrottleTable
  api_keys: ApiKeysTable
  optin_requests: OptinRequestsTable
  forms: FormsTable
  ledger_checkpoints: LedgerCheckpointsTable
  signing_keys: SigningKeysTable
  rate_limits: RateLimitsTable
  mail_log: MailLogTable
  mautic_form_fields: MauticFormFieldsTable
  mautic_email_purposes: MauticEmailPurposesTable
  mautic_mirror: MauticMirrorTable
  compliance_findings: ComplianceFindingsTable
  dsr_requests: DsrRequestsTable
  data_fields: DataFieldsTable
  processors: ProcessorsTable
  data_field_processors: DataFieldProcessorsTable
  risk_findings: RiskFindingsTable
  recipient_notices: RecipientNoticesTable
  proof_bundles: ProofBundlesTable
  proof_bundle_pages: ProofBundlePagesTable
  incidents: IncidentsTable
  daily_counters: DailyCountersTable
  counter_backfill: CounterBackfillTable
  dsr_history: DsrHistoryTable
  settings: SettingsTable
  mautic_fields: MauticFieldsTable
  webhook_secrets: WebhookSecretsTable
  webhook_health: WebhookHealthTable
  retention_runs: RetentionRunsTable
  contact_activity: ContactActivityTable
  job_marks: JobMarksTable
  backups: BackupsTable
  compliance_reviews: ComplianceReviewsTable
  reconsent_campaigns: ReconsentCampaignsTable
  reconsent_mails: ReconsentMailsTable
  d1_migrations: D1MigrationsTable
}

export type DB = Kysely<Database>

/**
 * Runs compiled queries as one all-or-nothing unit: a better-sqlite3 transaction on Node, one
 * `D1Database.batch()` on Workers (D1 has no interactive transactions). The queries cannot read each
 * other's results: ids are generated in code and `ON CONFLICT` gives idempotency.
 */
export type Atomic = (queries: readonly CompiledQuery[]) => Promise<void>

/**
 * Runs one compiled read straight on the driver (hot paths; see prepared.ts). Synchronous on Node
 * (better-sqlite3 is), a promise on Workers: callers use `settle` to await only when needed.
 */
export type Query = <R>(q: CompiledQuery) => R[] | Promise<R[]>

/** The first row only (or undefined): cheaper than `Query` on Node, where no array is built. */
export type QueryOne = <R>(q: CompiledQuery) => R | undefined | Promise<R | undefined>

// 0005_data_rights.sql

export type DsrKind = 'access' | 'export' | 'rectify' | 'erase' | 'object'

export interface DsrRequestsTable {
  id: string
  contact_id: string | null
  kind: DsrKind
  channel: 'self_service' | 'admin'
  received_at: number
  verified_at: number | null
  due_at: number
  completed_at: number | null
  handled_by: string | null
  /** JSON without personal data. */
  details: string
  /** 0013: an extension of Art. 12(3) (by one or two further months) and its reason. */
  extended_at: number | null
  extension_months: number | null
  extension_reason: string | null
  /** 0013: where to answer a request recorded by staff for someone the gateway does not know. */
  reply_email_enc: string | null
}

// 0012_compliance.sql

/** The inventory's categories (special: GDPR Art. 9, and Art. 10's criminal data). */
export type FieldCategory =
  'identity' | 'contact' | 'professional' | 'behavioural' | 'location' | 'free_text' | 'special'

/** GDPR Art. 6(1)(a)-(f). */
export type LegalBasis =
  | 'consent'
  | 'contract'
  | 'legal_obligation'
  | 'vital_interests'
  | 'public_task'
  | 'legitimate_interest'

export interface DataFieldsTable {
  id: string
  source: 'mautic' | 'gateway' | 'manual'
  name: string
  label: string
  type: string
  suggested_category: FieldCategory | null
  /** JSON: the rule that matched, the word, the article, whether a review is needed. */
  suggestion: string
  category: FieldCategory | null
  purpose: string | null
  legal_basis: LegalBasis | null
  retention_days: number | null
  special_condition: string | null
  notes: string | null
  confirmed_at: number | null
  confirmed_by: string | null
  reviewed_at: number | null
  review_note: string | null
  removed_at: number | null
  created_at: number
  updated_at: number
}

export type ProcessorRole = 'processor' | 'sub_processor' | 'joint_controller' | 'recipient'
export type TransferBasis = 'adequacy' | 'scc' | 'bcr' | 'derogation'

export interface ProcessorsTable {
  id: string
  name: string
  role: ProcessorRole
  /** JSON array of FieldCategory. */
  data_categories: string
  country: string
  transfer_basis: TransferBasis | null
  contract_signed_at: number | null
  last_review_at: number | null
  webhook_url: string | null
  webhook_secret_enc: string | null
  notify_rights: 0 | 1
  notes: string | null
  created_at: number
  updated_at: number
  archived_at: number | null
}

export interface DataFieldProcessorsTable {
  field_id: string
  processor_id: string
}

export type RiskSeverity = 'high' | 'medium' | 'low'

export interface RiskFindingsTable {
  id: string
  kind: string
  subject: string
  severity: RiskSeverity
  details: string
  opened_at: number
  closed_at: number | null
  updated_at: number
}

export type RecipientNoticeStatus =
  'pending' | 'retrying' | 'delivered' | 'failed' | 'open' | 'done' | 'superseded'

export interface RecipientNoticesTable {
  id: string
  request_id: string | null
  processor_id: string
  contact_id: string
  kind: 'rectify' | 'erase'
  channel: 'webhook' | 'task'
  status: RecipientNoticeStatus
  /** Encrypted JSON {email, changes}; null once passed on. */
  subject_enc: string | null
  attempts: number
  last_error: string | null
  created_at: number
  updated_at: number
  completed_at: number | null
  completed_by: string | null
  note: string | null
}

export interface ProofBundlesTable {
  id: string
  purpose_key: string | null
  occurred_from: number | null
  occurred_to: number | null
  checkpoint_id: string
  page_size: number
  created_at: number
  created_by: string
  completed_at: number | null
}

export interface ProofBundlePagesTable {
  bundle_id: string
  n: number
  lines: number
  events: number
  sha256: string
  after_contact: string
  after_seq: number
  done: 0 | 1
  counts: string
}

export type IncidentRisk = 'unlikely' | 'risk' | 'high'

export interface IncidentsTable {
  id: string
  title: string
  description: string
  detected_at: number
  nature: string
  data_categories: string
  people_affected: number | null
  records_affected: number | null
  risk: IncidentRisk | null
  assessment: string | null
  assessed_at: number | null
  authority_notified_at: number | null
  authority_reference: string | null
  delay_reason: string | null
  people_notified_at: number | null
  people_notice: string | null
  measures: string | null
  reminder_48_at: number | null
  reminder_66_at: number | null
  closed_at: number | null
  created_at: number
  created_by: string
  updated_at: number
}

// 0014_operations.sql

export type RetentionPhase = 'contacts' | 'receipts' | 'links' | 'mail_log' | 'done'

export interface RetentionRunsTable {
  id: string
  trigger: 'schedule' | 'cli' | 'admin'
  actor: string
  status: 'running' | 'done' | 'failed'
  phase: RetentionPhase
  cursor: string | null
  cutoff: number
  inactive_days: number
  scanned: number
  contacts_erased: number
  receipts_deleted: number
  links_deleted: number
  mail_logs_deleted: number
  error: string | null
  locked_until: number | null
  started_at: number
  updated_at: number
  finished_at: number | null
}

export interface ContactActivityTable {
  contact_id: string
  last_at: number
  kind: string
}

export interface JobMarksTable {
  job: string
  last_run_at: number
  details: string
}

export type BackupKind = 'sqlite' | 'sealed' | 'd1_export' | 'other'

export interface BackupsTable {
  id: string
  taken_at: number
  kind: BackupKind
  location: string
  size_bytes: number | null
  sha256: string | null
  recorded_by: string
  created_at: number
}

export interface ComplianceReviewsTable {
  quarter: string
  items: string
  notes: string
  signed_by: string
  signed_role: string | null
  signed_at: number
}

export interface ReconsentCampaignsTable {
  notice_id: string
  purpose_key: string
  locale: 'fr' | 'en'
  version: number
  grace_until: number
  cursor: string | null
  queued: number
  started_at: number
  scanned_at: number | null
  locked_until: number | null
}

export interface ReconsentMailsTable {
  notice_id: string
  contact_id: string
  queued_at: number
  sent_at: number | null
}
