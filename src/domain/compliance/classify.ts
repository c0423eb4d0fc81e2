/**
 * @module Suggestions for the data inventory (GDPR Art. 9, 10, 30(1)(c)): a category guessed from a
 * field's name, label and type only (never from its values), in French and English. A suggestion is
 * never applied on its own: a person confirms or corrects each field (inventory.ts). Words are matched
 * whole after accents and case are folded and names are split at `_`, `-`, spaces and camelCase, so
 * `facebook` is not `face` and `reunion` is not `union`; stems (`religi`, `syndic`…) cover the forms.
 */
import type { FieldCategory } from '../../db/database.ts'

export const FIELD_CATEGORIES: readonly FieldCategory[] = [
  'identity',
  'contact',
  'professional',
  'behavioural',
  'location',
  'free_text',
  'special',
]

/** Which kind of special data a word points to (Art. 9(1), and Art. 10 for criminal data). */
export type SpecialKind =
  | 'health'
  | 'religion'
  | 'political_opinion'
  | 'philosophical_belief'
  | 'trade_union'
  | 'biometric'
  | 'genetic'
  | 'racial_ethnic_origin'
  | 'sexual_orientation'
  | 'criminal'

export interface FieldSuggestion {
  /** null: nothing matched; a person must say. */
  category: FieldCategory | null
  /** keyword (a word of the name or label), type (the field's type), none. */
  rule: 'keyword' | 'type' | 'none'
  /** The word or type that matched. */
  match?: string
  /** Art. 9 or 10, for special categories. */
  article?: 'art9' | 'art10'
  special?: SpecialKind
  /** A person should look at what the field holds (free text, special data, nothing matched). */
  review: boolean
}

/** Each pattern is tried on every word (whole word; a trailing `*` allows any ending). */
const SPECIAL: [SpecialKind, string[]][] = [
  [
    'health',
    [
      'health*',
      'sante',
      'medic*',
      'maladie*',
      'disease*',
      'illness*',
      'diagnos*',
      'handicap*',
      'disabilit*',
      'disabled',
      'pregnan*',
      'grossesse*',
      'enceinte',
      'allerg*',
      'treatment*',
      'traitement*',
      'therap*',
      'patholog*',
      'symptom*',
      'blood',
      'sang*',
      'sanguin*',
      'vaccin*',
      'mental',
      'psych*',
      'hiv',
      'vih',
      'cancer*',
      'diabet*',
      'mutuelle',
      'bmi',
      'imc',
      'poids',
      'weight',
    ],
  ],
  [
    'religion',
    [
      'religi*',
      'confession*',
      'croyance*',
      'belief*',
      'faith',
      'foi',
      'culte',
      'worship',
      'church',
      'eglise',
      'mosque*',
      'synagog*',
      'halal',
      'casher',
      'kosher',
    ],
  ],
  [
    'political_opinion',
    ['politi*', 'opinion*', 'parti', 'vote*', 'voting', 'electoral*', 'militant*'],
  ],
  ['philosophical_belief', ['philosoph*', 'conviction*', 'atheis*', 'athee*']],
  ['trade_union', ['union*', 'syndic*']],
  [
    'biometric',
    [
      'biometr*',
      'fingerprint*',
      'empreinte*',
      'facial',
      'faciale',
      'iris',
      'retina*',
      'retine*',
      'voiceprint*',
      'faceid',
    ],
  ],
  ['genetic', ['genet*', 'dna', 'adn', 'genom*', 'genotyp*']],
  ['racial_ethnic_origin', ['race', 'racial*', 'raciale*', 'ethni*', 'ethnicity']],
  [
    'sexual_orientation',
    ['sexual*', 'sexuel*', 'sexuelle*', 'lgbt*', 'gay', 'lesbian*', 'homosexu*', 'bisexu*'],
  ],
  [
    'criminal',
    [
      'criminal*',
      'criminel*',
      'casier',
      'conviction',
      'condamnation*',
      'offence*',
      'offense*',
      'infraction*',
      'judiciaire*',
    ],
  ],
]

/** Other categories by word, tried after the special ones; the first that matches wins. */
const WORDS: [FieldCategory, string[]][] = [
  [
    'free_text',
    [
      'comment*',
      'commentaire*',
      'note',
      'notes',
      'remark*',
      'remarque*',
      'message*',
      'description',
      'observation*',
      'freetext',
      'texte',
      'bio',
      'about',
      'precision*',
    ],
  ],
  [
    'contact',
    [
      'email*',
      'mail',
      'courriel*',
      'phone*',
      'telephone*',
      'tel',
      'mobile',
      'portable',
      'fax',
      'address*',
      'adresse*',
      'zip*',
      'zipcode',
      'postal*',
      'postcode',
      'cp',
      'skype',
      'twitter',
      'facebook',
      'linkedin',
      'instagram',
      'foursquare',
      'website',
      'site',
      'url',
      'whatsapp',
      'locale',
      'langue',
      'language',
    ],
  ],
  [
    'identity',
    [
      'firstname',
      'lastname',
      'name',
      'names',
      'nom',
      'prenom',
      'surname',
      'title',
      'civilite',
      'salutation',
      'gender',
      'genre',
      'sexe',
      'sex',
      'birth*',
      'birthday',
      'naissance',
      'dob',
      'age',
      'nationalit*',
      'passport*',
      'passeport*',
      'ssn',
      'nir',
      'secu',
      'identity',
      'identite',
      'photo*',
      'avatar',
      'username',
      'pseudo',
      'ip',
    ],
  ],
  [
    'professional',
    [
      'company',
      'companies',
      'entreprise*',
      'societe',
      'organisation*',
      'organization*',
      'employer',
      'employeur',
      'position',
      'poste',
      'job*',
      'fonction',
      'role',
      'department',
      'departement',
      'service',
      'industry',
      'secteur',
      'siret',
      'siren',
      'vat',
      'tva',
      'employees',
      'salaries',
      'revenue',
      'chiffre',
      'profession*',
      'metier',
    ],
  ],
  [
    'location',
    [
      'city',
      'ville',
      'country',
      'pays',
      'state',
      'region',
      'departement',
      'timezone',
      'fuseau',
      'geo*',
      'latitude',
      'longitude',
      'lat',
      'lng',
      'lon',
      'gps',
      'location*',
      'localisation*',
    ],
  ],
  [
    'behavioural',
    [
      'points',
      'score*',
      'active',
      'activity',
      'activite',
      'visit*',
      'click*',
      'clic*',
      'open*',
      'ouverture*',
      'attribution*',
      'stage',
      'utm*',
      'campaign*',
      'campagne*',
      'source',
      'segment*',
      'interest*',
      'interet*',
      'preference*',
      'consent*',
      'agent',
      'useragent',
      'browser',
      'navigateur',
      'device',
      'purchase*',
      'achat*',
      'order*',
      'commande*',
    ],
  ],
]

/** Mautic's field types (LeadBundle FieldModel) and the gateway's own, when no word says more. */
const TYPES: Record<string, FieldCategory> = {
  email: 'contact',
  tel: 'contact',
  url: 'contact',
  locale: 'contact',
  country: 'location',
  region: 'location',
  timezone: 'location',
  textarea: 'free_text',
  html: 'free_text',
}

/** Lower case, accents removed, split into words (camelCase too). */
export function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
}

const matches = (pattern: string, word: string) =>
  pattern.endsWith('*') ? word.startsWith(pattern.slice(0, -1)) : word === pattern

/** The first word (in order) that some entry matches; entries in table order for that word. */
function firstMatch<T>(table: [T, string[]][], ws: string[]): [T, string] | undefined {
  for (const w of ws)
    for (const [what, patterns] of table) if (patterns.some((p) => matches(p, w))) return [what, w]
  return undefined
}

/**
 * The suggestion for one field. Special data first (a "notes_sante" text box is about health before it
 * is free text), then a text box or HTML field (free text), then words, then the type.
 */
export function suggestCategory(field: {
  name: string
  label?: string
  type: string
}): FieldSuggestion {
  const ws = [...new Set([...words(field.name), ...words(field.label ?? '')])]
  const special = firstMatch(SPECIAL, ws)
  if (special)
    return {
      category: 'special',
      rule: 'keyword',
      match: special[1],
      article: special[0] === 'criminal' ? 'art10' : 'art9',
      special: special[0],
      review: true,
    }
  const type = field.type.toLowerCase()
  if (TYPES[type] === 'free_text')
    return { category: 'free_text', rule: 'type', match: type, review: true }
  const word = firstMatch(WORDS, ws)
  if (word)
    return { category: word[0], rule: 'keyword', match: word[1], review: word[0] === 'free_text' }
  if (TYPES[type]) return { category: TYPES[type], rule: 'type', match: type, review: false }
  return { category: null, rule: 'none', review: true }
}
