// The data inventory (GDPR Art. 9, 30(1)(c)): Mautic's contact fields as GET /api/fields/contact lists
// them (the fake serves Mautic's own installed fields, FieldModel::$coreFields, plus custom ones a
// French organisation typically adds), the gateway's own fields, suggestions in French and English
// that a person confirms; nothing is classified silently.
import { describe, expect, it } from 'vitest'
import { suggestCategory, words } from '../../../../src/domain/compliance/classify.ts'
import {
  classifyField,
  GATEWAY_FIELDS,
  importMauticFields,
  listInventory,
  refreshInventory,
  reviewField,
} from '../../../../src/domain/compliance/inventory.ts'
import { createMauticClient } from '../../../../src/mautic/client.ts'
import { testDeps } from '../../../helpers/deps.ts'
import { useMautic } from '../../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')

/** Custom fields as organisations add them in Mautic (alias, type, label). */
const CUSTOM: [string, string, string][] = [
  ['sante_allergies', 'textarea', 'Allergies et santé'],
  ['religion', 'select', 'Religion'],
  ['opinions_politiques', 'text', 'Opinions politiques'],
  ['membre_syndicat', 'boolean', 'Membre d’un syndicat'],
  ['tradeUnion', 'boolean', 'Trade union member'],
  ['empreinte_biometrique', 'text', 'Empreinte biométrique'],
  ['health_status', 'select', 'Health status'],
  ['casier_judiciaire', 'boolean', 'Casier judiciaire'],
  ['commentaire', 'textarea', 'Commentaire'],
  ['notes_internes', 'text', 'Notes internes'],
  ['date_naissance', 'date', 'Date de naissance'],
  ['secteur_activite', 'lookup', 'Secteur'],
  ['lead_score', 'number', 'Score'],
  ['reunion_date', 'date', 'Prochaine réunion'],
  ['couleur_preferee', 'select', 'Couleur'],
]

async function setup() {
  const t = await testDeps(mautic.env, {
    mautic: createMauticClient(mautic.connection, { sleep: async () => {} }),
  })
  for (const [alias, type, label] of CUSTOM) mautic.addField({ alias, type, label })
  return t
}

describe('inventory suggestions', () => {
  it('splits names into folded words (accents, case, camelCase)', () => {
    expect(words('Membre_du_SYNDICAT')).toEqual(['membre', 'du', 'syndicat'])
    expect(words('tradeUnion')).toEqual(['trade', 'union'])
    expect(words('Santé / Médical')).toEqual(['sante', 'medical'])
  })

  it('suggests from a realistic Mautic field list: Art. 9 and 10 in French and English, free text to review', async () => {
    const t = await setup()
    const report = await importMauticFields(t.deps)
    expect(mautic.calls('GET', '/api/fields/contact')).toHaveLength(1)
    expect(report).toEqual({
      added: 28 + CUSTOM.length,
      updated: 0,
      removed: 0,
      pending: 28 + CUSTOM.length,
    })
    const fields = await listInventory(t.deps, { source: 'mautic' })
    const by = Object.fromEntries(fields.map((f) => [f.name, f]))
    const suggested = (name: string) => by[name]!.suggestion

    for (const name of ['sante_allergies', 'health_status'])
      expect(suggested(name)).toMatchObject({
        category: 'special',
        special: 'health',
        article: 'art9',
        review: true,
      })
    expect(suggested('religion')).toMatchObject({ category: 'special', special: 'religion' })
    expect(suggested('opinions_politiques')).toMatchObject({
      category: 'special',
      special: 'political_opinion',
    })
    for (const name of ['membre_syndicat', 'tradeUnion'])
      expect(suggested(name)).toMatchObject({ category: 'special', special: 'trade_union' })
    expect(suggested('empreinte_biometrique')).toMatchObject({
      category: 'special',
      special: 'biometric',
    })
    expect(suggested('casier_judiciaire')).toMatchObject({ category: 'special', article: 'art10' })
    // Free text: to review, by type (a text box) or by name.
    expect(suggested('commentaire')).toMatchObject({
      category: 'free_text',
      rule: 'type',
      review: true,
    })
    expect(suggested('notes_internes')).toMatchObject({
      category: 'free_text',
      rule: 'keyword',
      review: true,
    })
    // Mautic's own fields.
    expect(suggested('email')).toMatchObject({ category: 'contact' })
    expect(suggested('firstname')).toMatchObject({ category: 'identity' })
    expect(suggested('title')).toMatchObject({ category: 'identity' })
    expect(suggested('company')).toMatchObject({ category: 'professional' })
    expect(suggested('position')).toMatchObject({ category: 'professional' })
    expect(suggested('city')).toMatchObject({ category: 'location' })
    expect(suggested('country')).toMatchObject({ category: 'location' })
    expect(suggested('timezone')).toMatchObject({ category: 'location' })
    expect(suggested('points')).toMatchObject({ category: 'behavioural' })
    expect(suggested('last_active')).toMatchObject({ category: 'behavioural' })
    expect(suggested('facebook')).toMatchObject({ category: 'contact' }) // not "face"
    expect(suggested('date_naissance')).toMatchObject({ category: 'identity' })
    expect(suggested('secteur_activite')).toMatchObject({ category: 'professional' })
    expect(suggested('reunion_date').category).not.toBe('special') // not "union"
    // Nothing matched: no guess, a person says.
    expect(suggested('couleur_preferee')).toEqual({ category: null, rule: 'none', review: true })
    // Nothing is classified silently.
    expect(fields.every((f) => f.status === 'pending' && f.category === null)).toBe(true)
    expect(by.email!.label).toBe('Email')
  })

  it('imports the gateway’s own fields, and a re-import marks fields gone from Mautic as removed', async () => {
    const t = await setup()
    const first = await refreshInventory(t.deps)
    expect(first.gateway.added).toBe(GATEWAY_FIELDS.length)
    const gateway = await listInventory(t.deps, { source: 'gateway' })
    expect(gateway.find((f) => f.name === 'evidence_ip')!.suggestion.category).toBe('identity')
    expect(gateway.find((f) => f.name === 'email')!.suggestion.category).toBe('contact')

    mautic.fields.splice(
      mautic.fields.findIndex((f) => f.alias === 'religion'),
      1,
    )
    const again = await refreshInventory(t.deps)
    expect(again.gateway).toMatchObject({ added: 0, updated: 0, removed: 0 })
    expect(again.mautic).toMatchObject({ added: 0, removed: 1 })
    expect((await listInventory(t.deps)).some((f) => f.name === 'religion')).toBe(false)
    const all = await listInventory(t.deps, { includeRemoved: true })
    expect(all.find((f) => f.name === 'religion')!.removed_at).not.toBeNull()
  })

  it('classifies a field only when a person confirms it, and keeps that on the next import', async () => {
    const t = await setup()
    await importMauticFields(t.deps)
    const field = (await listInventory(t.deps)).find((f) => f.name === 'sante_allergies')!
    const result = await classifyField(
      t.deps,
      field.id,
      {
        category: 'special',
        purpose: 'Event catering',
        legal_basis: 'consent',
        retention_days: 90,
        special_condition: 'Art. 9(2)(a) explicit consent',
      },
      'api:dpo',
    )
    expect(result).toMatchObject({
      ok: true,
      field: { status: 'confirmed', category: 'special', confirmed_by: 'api:dpo' },
    })
    expect(
      await classifyField(t.deps, field.id, { category: 'special', processors: ['nope'] }, 'x'),
    ).toMatchObject({
      ok: false,
      code: 'unknown_processor',
    })
    mautic.fields.find((f) => f.alias === 'sante_allergies')!.label = 'Allergies'
    await importMauticFields(t.deps)
    const after = (await listInventory(t.deps)).find((f) => f.id === field.id)!
    expect(after).toMatchObject({ label: 'Allergies', category: 'special', status: 'confirmed' })
    const reviewed = await reviewField(t.deps, field.id, 'no diagnosis typed in', 'api:dpo')
    expect(reviewed!.reviewed_at).not.toBeNull()
  })

  it('suggests without any sample of the values', () => {
    expect(
      suggestCategory({ name: 'x', label: 'Orientation sexuelle', type: 'select' }),
    ).toMatchObject({
      special: 'sexual_orientation',
    })
    expect(suggestCategory({ name: 'groupe_sanguin', type: 'select' })).toMatchObject({
      special: 'health',
    })
    expect(suggestCategory({ name: 'ethnic_origin', type: 'text' })).toMatchObject({
      special: 'racial_ethnic_origin',
    })
    expect(suggestCategory({ name: 'bio', type: 'html' })).toMatchObject({ category: 'free_text' })
  })
})
