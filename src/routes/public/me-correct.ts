/**
 * @module /me/{token}/correct: correction of one's attributes, language and address (GDPR Art. 16),
 * passed on to Mautic (Art. 19). A bad value gets the form back with the values typed and a message
 * per field; a new address only gets its check mailed (email-change.ts). Origin-checked.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  ATTRIBUTE_MAX_LENGTH,
  contactAttributes,
  correctContact,
  PROFILE_FIELDS,
  type CorrectionError,
} from '../../domain/rights/correction.ts'
import { contactEmail } from '../../domain/platform/contacts.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { formLocale, formString, withAccess, type AccessContext, type Form } from './me-shared.ts'

export function meCorrectRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  async function correctForm(
    c: Context,
    access: AccessContext,
    locale: Locale,
    values: { email: string; locale: string; attributes: Record<string, string> },
    errors: CorrectionError[] = [],
  ) {
    const names = [...new Set([...PROFILE_FIELDS, ...Object.keys(values.attributes)])]
    const bad = new Set(errors.map((e) => e.field))
    const fieldLabel = (name: string) => {
      const text = t(locale, `me.field.${name}`)
      return text === `me.field.${name}` ? name : text
    }
    return page(c, site, 'public/me-correct', {
      locale,
      titleKey: 'correct.title',
      status: errors.length > 0 ? 400 : 200,
      data: {
        action: `${access.base}/correct`,
        back: `${access.base}?lang=${locale}`,
        email: values.email,
        emailInvalid: bad.has('email'),
        fields: names.map((name) => ({
          name,
          input: `attr_${name}`,
          label: fieldLabel(name),
          value: values.attributes[name] ?? '',
          invalid: bad.has(name),
          autocomplete:
            name === 'first_name' ? 'given-name' : name === 'last_name' ? 'family-name' : 'off',
        })),
        max: ATTRIBUTE_MAX_LENGTH,
        locales: (['fr', 'en'] as const).map((l) => ({
          value: l,
          label: t(locale, `me.language.${l}`),
          selected: l === values.locale,
        })),
        errors: errors.map((e) =>
          t(
            locale,
            e.field === 'attributes' ? 'correct.error.attributes' : `correct.error.${e.code}`,
            {
              field: fieldLabel(e.field),
              max: e.field === 'email' ? 254 : ATTRIBUTE_MAX_LENGTH,
            },
          ),
        ),
      },
    })
  }

  const app = new Hono()

  app.get('/:token/correct', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const { contact } = access
    return correctForm(c, access, pageLocale(c, contact.locale), {
      email: (await contactEmail(deps, contact)) ?? '',
      locale: contact.locale,
      attributes: await contactAttributes(deps, contact),
    })
  })

  app.post('/:token/correct', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const form = (await c.req.parseBody()) as Form
    const locale = formLocale(c, access, form)
    const attributes = Object.fromEntries(
      Object.keys(form)
        .filter((k) => k.startsWith('attr_'))
        .map((k) => [k.slice(5), formString(form, k)]),
    )
    const input = {
      attributes,
      locale: formString(form, 'locale'),
      email: formString(form, 'email'),
    }
    const result = await correctContact(deps, access.contact, input)
    if (!result.ok)
      return correctForm(
        c,
        access,
        locale,
        {
          email: input.email.slice(0, 254),
          locale: input.locale,
          attributes: Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [
              k.slice(0, 64),
              v.slice(0, ATTRIBUTE_MAX_LENGTH),
            ]),
          ),
        },
        result.errors,
      )
    if (result.email === 'verification_sent') c.set('outboxPending', true)
    const done =
      result.email === 'verification_sent'
        ? 'email-sent'
        : result.email === 'throttled'
          ? 'email-throttled'
          : result.changed.length > 0
            ? 'corrected'
            : 'unchanged'
    // The language just chosen is the one the data page comes back in.
    const lang = input.locale === 'fr' || input.locale === 'en' ? input.locale : locale
    return c.redirect(`${access.base}?done=${done}&lang=${lang}`, 303)
  })

  return app
}
