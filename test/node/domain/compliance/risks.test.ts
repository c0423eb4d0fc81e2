// The risk report (steps 1 and 4 of the brief; GDPR Art. 5(2), 9, 28, 44): every kind of finding opens
// when its condition appears and closes when a person puts it right, and the closed ones stay listed.
import { describe, expect, it } from 'vitest'
import {
  insertFindingQuery,
  resolveFindingsQuery,
} from '../../../../src/db/repositories/findings.ts'
import {
  addManualField,
  classifyField,
  reviewField,
} from '../../../../src/domain/compliance/inventory.ts'
import { createProcessor, updateProcessor } from '../../../../src/domain/compliance/processors.ts'
import { listRisks, refreshRisks, RISK_KINDS } from '../../../../src/domain/compliance/risks.ts'
import { createPurpose, publishNotice } from '../../../../src/domain/consent/purpose-admin.ts'
import { TEST_NOW, testDeps } from '../../../helpers/deps.ts'

const YEAR = 365 * 86_400_000

async function setup() {
  const t = await testDeps()
  const open = async () =>
    (await listRisks(t.deps)).map((r) => `${r.severity} ${r.kind} ${r.subject}`).sort()
  const closed = async () =>
    (await listRisks(t.deps, { status: 'closed' })).map((r) => `${r.kind} ${r.subject}`).sort()
  const field = async (name: string, type = 'text') => {
    const added = await addManualField(t.deps, { name, label: name, type })
    if (!added.ok) throw new Error(added.message)
    return added.field.id
  }
  return { ...t, open, closed, field }
}

describe('risk report', () => {
  it('starts empty on a fresh gateway (the seeded purposes have wording in both languages)', async () => {
    const t = await setup()
    expect(await refreshRisks(t.deps)).toEqual({ opened: 0, closed: 0, open: 0 })
    expect(await t.open()).toEqual([])
  })

  it('opens and closes the inventory findings: unconfirmed, special category, purpose, retention, free text', async () => {
    const t = await setup()
    const health = await t.field('dossier_medical')
    const notes = await t.field('remarques', 'textarea')
    expect(await t.open()).toEqual(
      [
        `high special_category ${health}`,
        `medium field_unconfirmed ${health}`,
        `medium field_unconfirmed ${notes}`,
      ].sort(),
    )

    // Confirmed without purpose, basis or retention: those open instead.
    await classifyField(t.deps, health, { category: 'special' }, 'api:dpo')
    await classifyField(t.deps, notes, { category: 'free_text' }, 'api:dpo')
    expect(await t.open()).toEqual(
      [
        `high special_category ${health}`,
        `low free_text ${notes}`,
        `medium field_no_purpose ${health}`,
        `medium field_no_purpose ${notes}`,
        `medium field_no_retention ${health}`,
        `medium field_no_retention ${notes}`,
      ].sort(),
    )

    const full = {
      purpose: 'Customer support',
      legal_basis: 'contract' as const,
      retention_days: 365,
    }
    await classifyField(
      t.deps,
      health,
      { category: 'special', ...full, special_condition: 'Art. 9(2)(a)' },
      'api:dpo',
    )
    await classifyField(t.deps, notes, { category: 'free_text', ...full }, 'api:dpo')
    expect(await t.open()).toEqual([`low free_text ${notes}`])
    await reviewField(t.deps, notes, 'checked: no health data typed in', 'api:dpo')
    expect(await t.open()).toEqual([])
    expect(await t.closed()).toEqual([
      `field_no_purpose ${health}`,
      `field_no_purpose ${notes}`,
      `field_no_retention ${health}`,
      `field_no_retention ${notes}`,
      `field_unconfirmed ${health}`,
      `field_unconfirmed ${notes}`,
      `free_text ${notes}`,
      `special_category ${health}`,
    ])
  })

  it('opens and closes the processor findings: no contract, transfer without basis, review overdue', async () => {
    const t = await setup()
    const created = await createProcessor(t.deps, {
      name: 'Mailer Inc.',
      role: 'processor',
      country: 'US',
      data_categories: ['contact'],
    })
    if (!created.ok) throw new Error(created.message)
    const id = created.processor.id
    expect(await t.open()).toEqual([
      `high processor_no_contract ${id}`,
      `high transfer_without_basis ${id}`,
      `low processor_review_overdue ${id}`,
    ])
    await updateProcessor(t.deps, id, { contract_signed_at: TEST_NOW - YEAR / 2 })
    await updateProcessor(t.deps, id, { transfer_basis: 'scc' })
    expect(await t.open()).toEqual([`low processor_review_overdue ${id}`])
    await updateProcessor(t.deps, id, { last_review_at: TEST_NOW })
    expect(await t.open()).toEqual([])
    // A year on, the review is overdue again: a new finding.
    t.clock.advance(YEAR + 1)
    await refreshRisks(t.deps)
    expect(await t.open()).toEqual([`low processor_review_overdue ${id}`])
    expect(await t.closed()).toEqual([
      `processor_no_contract ${id}`,
      `processor_review_overdue ${id}`,
      `transfer_without_basis ${id}`,
    ])
  })

  it('opens and closes the Mautic contacts without proof (from mautic sync) and the purposes without wording', async () => {
    const t = await setup()
    await t.deps.atomic([
      insertFindingQuery(t.deps.db, {
        kind: 'no_proof',
        contactId: null,
        mauticId: '7',
        purposeKey: null,
        details: {},
        now: TEST_NOW,
      }),
    ])
    expect(
      await createPurpose(t.deps, {
        key: 'sms_offers',
        channel: 'sms',
        legalBasis: 'consent',
        doubleOptIn: false,
        maxConsentAgeDays: null,
      }),
    ).toEqual({ ok: true })
    await refreshRisks(t.deps)
    expect(await t.open()).toEqual([
      'high contacts_without_proof mautic',
      'high purpose_without_notice sms_offers',
    ])
    const wording = {
      purposeKey: 'sms_offers',
      title: 'SMS',
      body: 'Offres par SMS',
      privacyUrl: '',
      requiresReconsent: false,
    }
    await publishNotice(t.deps, { ...wording, locale: 'fr' })
    await refreshRisks(t.deps)
    const [notice] = await listRisks(t.deps, { kind: 'purpose_without_notice' })
    expect(notice!.details).toEqual({ purpose: 'sms_offers', missing: ['en'] })
    await publishNotice(t.deps, { ...wording, locale: 'en' })
    await t.deps.atomic([
      resolveFindingsQuery(t.deps.db, {
        kind: 'no_proof',
        mauticId: '7',
        resolution: 'consent proven',
        now: TEST_NOW,
      }),
    ])
    await refreshRisks(t.deps)
    expect(await t.open()).toEqual([])
    expect(await t.closed()).toEqual([
      'contacts_without_proof mautic',
      'purpose_without_notice sms_offers',
    ])
  })

  it('covers every kind it declares', () => {
    // Each kind above is opened and closed by one of these tests.
    expect([...RISK_KINDS].sort()).toEqual([
      'contacts_without_proof',
      'field_no_purpose',
      'field_no_retention',
      'field_unconfirmed',
      'free_text',
      'processor_no_contract',
      'processor_review_overdue',
      'purpose_without_notice',
      'special_category',
      'transfer_without_basis',
    ])
  })
})
