/** @module Where a transfer needs a basis (GDPR Art. 44-49): outside the European Economic Area. */

/** The EEA (EU 27, Iceland, Liechtenstein, Norway): no transfer basis needed (Art. 44). */
export const EEA: ReadonlySet<string> = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO'.split(
    ' ',
  ),
)

export const isThirdCountry = (country: string) => !EEA.has(country.toUpperCase())
