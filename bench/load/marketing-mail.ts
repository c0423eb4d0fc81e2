/**
 * @module The mail of the relay scenarios: a realistic marketing newsletter as Mautic sends it, about
 * 50 KB of HTML (table layout, inline styles, tracked links, French text) with its text version and a
 * small inline logo: multipart/alternative { text/plain, multipart/related { text/html, image/png } },
 * quoted-printable text, base64 image, Mautic's own `mailto:` List-Unsubscribe. Composed once by
 * nodemailer; each message is that template with its recipient and Message-ID spliced in, so the load
 * generator spends nothing on MIME.
 */
import { crc32, deflateSync } from 'node:zlib'
import nodemailer from 'nodemailer'

/** Decoded size of the HTML part the brief asks for. */
export const HTML_BYTES = 50 * 1024

const SENTENCES = [
  'Découvrez notre sélection d’automne : des pièces pensées pour durer, fabriquées en France.',
  'Nos artisans ont travaillé tout l’été pour vous proposer une collection à la fois élégante et écoresponsable.',
  'Profitez de la livraison offerte dès 49 € d’achat, et de retours gratuits pendant 30 jours.',
  'Chaque commande passée cette semaine contribue à replanter un arbre en Auvergne-Rhône-Alpes.',
  'Vous hésitez entre deux tailles ? Notre guide détaillé répond à toutes vos questions, même les plus précises.',
  'Les fêtes de fin d’année approchent : pensez à réserver vos créations personnalisées dès maintenant.',
  'Le thé glacé à la pêche de vigne, la crème brûlée à la lavande : nos recettes préférées de la saison.',
  'Rendez-vous samedi dans notre boutique de Lyon pour un atelier gratuit, café et croissants offerts.',
  'Élue meilleure marque de prêt-à-porter éthique par nos lectrices, pour la troisième année consécutive.',
  'Nos clients en parlent : « une qualité remarquable, un service client réactif et très agréable ».',
]
const PRODUCTS: [name: string, before: string, after: string][] = [
  ['Pull en laine mérinos, col roulé', '89,00 €', '62,30 €'],
  ['Écharpe tissée main, bordeaux', '45,00 €', '31,50 €'],
  ['Bottines en cuir végétal', '159,00 €', '119,00 €'],
  ['Manteau d’hiver déperlant', '249,00 €', '199,00 €'],
  ['Bonnet côtelé, laine recyclée', '29,00 €', '20,30 €'],
  ['Chemise en flanelle à carreaux', '69,00 €', '48,30 €'],
]
const MAUTIC = 'https://mautic.exemple.fr'
const tracked = (n: number, path: string) =>
  `${MAUTIC}/r/5f3a9c${(n * 7919).toString(16)}?ct=YTo0OntzOjY6InNvdXJjZSI7YToyOntpOjA7czo1OiJlbWFpbCI7aToxO2k6MTI7fXM6NTo` +
  `iZW1haWwiO2k6MTI7czo0OiJzdGF0IjtzOjIyOiI2NTNhOWMxZjBlN2I${n}&utm_source=newsletter&utm_medium=email` +
  `&utm_campaign=automne-2025&url=${encodeURIComponent(`https://boutique.exemple.fr${path}`)}`

function article(n: number): { html: string; text: string } {
  const [name, before, after] = PRODUCTS[n % PRODUCTS.length]!
  const body = [0, 3, 7].map((k) => SENTENCES[(n + k) % SENTENCES.length]).join(' ')
  const title = `${n + 1}. ${name}`
  const link = tracked(n, `/produits/${n}-${name.toLowerCase().replace(/[^a-z]+/g, '-')}`)
  const html = `
<tr><td style="padding:24px 32px;border-bottom:1px solid #eeeae4;font-family:Georgia,'Times New Roman',serif">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
    <td width="160" valign="top" style="padding-right:20px"><a href="${link}" style="text-decoration:none"><img src="https://cdn.exemple.fr/img/produits/${n}-400x400.jpg" width="160" height="160" alt="${name}" style="display:block;border:0;border-radius:6px;width:160px;height:160px"></a></td>
    <td valign="top" style="font-size:15px;line-height:22px;color:#3b342c">
      <h2 style="margin:0 0 8px 0;font-size:20px;line-height:26px;color:#2a211a;font-weight:normal">${title}</h2>
      <p style="margin:0 0 12px 0">${body}</p>
      <p style="margin:0 0 16px 0;font-size:16px"><span style="text-decoration:line-through;color:#9b9187">${before}</span>&nbsp;&nbsp;<strong style="color:#a33c2a">${after}</strong> <span style="color:#6d645b;font-size:13px">(−30&nbsp;% jusqu’à dimanche)</span></p>
      <table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td bgcolor="#2a211a" style="border-radius:4px"><a href="${link}" style="display:inline-block;padding:10px 22px;font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#ffffff;text-decoration:none;font-weight:bold">Je découvre&nbsp;→</a></td></tr></table>
    </td>
  </tr></table>
</td></tr>`
  const text = `${title}\n${body}\nPrix : ${after} au lieu de ${before} (−30 % jusqu’à dimanche)\nJe découvre : ${link}\n`
  return { html, text }
}

function newsletter(): { html: string; text: string } {
  const head = `<!DOCTYPE html>
<html lang="fr" xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Nos nouveautés d’automne</title>
<style type="text/css">body{margin:0;padding:0;background:#f6f3ef}table{border-collapse:collapse}img{-ms-interpolation-mode:bicubic}
@media only screen and (max-width:620px){.container{width:100%!important}.stack td{display:block!important;width:100%!important}}</style>
</head><body style="margin:0;padding:0;background:#f6f3ef">
<div style="display:none;max-height:0;overflow:hidden">Jusqu’à −30 % sur la collection d’automne, livraison offerte dès 49 €.</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f6f3ef"><tr><td align="center" style="padding:24px 8px">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:600px">
<tr><td align="center" style="padding:28px 32px 12px 32px"><a href="${tracked(0, '/')}"><img src="cid:logo@exemple.fr" width="120" height="40" alt="Boutique Exemple" style="display:block;border:0"></a></td></tr>
<tr><td style="padding:8px 32px 24px 32px;font-family:Georgia,'Times New Roman',serif;font-size:17px;line-height:26px;color:#3b342c">
<h1 style="margin:0 0 12px 0;font-size:28px;line-height:34px;color:#2a211a;font-weight:normal">Bonjour {contactfield=firstname|Madame, Monsieur},</h1>
<p style="margin:0">L’automne est là, et avec lui une collection que nous avons hâte de vous présenter. Voici notre sélection de la semaine.</p>
</td></tr>`
  const foot = `
<tr><td style="padding:24px 32px;font-family:Arial,Helvetica,sans-serif;font-size:12px;line-height:18px;color:#8a8178" align="center">
Boutique Exemple SAS · 12 rue de la République, 69002 Lyon · RCS Lyon 812 345 678<br>
Vous recevez ce message car vous êtes inscrit·e à notre lettre d’information.
</td></tr>
</table></td></tr></table>
<img src="${MAUTIC}/email/653a9c1f0e7b2.gif" alt="" width="1" height="1" style="display:none">
</body></html>
`
  const html: string[] = [head]
  const text: string[] = [
    'Bonjour,\n\nL’automne est là, et avec lui une collection que nous avons hâte de vous présenter.\n',
  ]
  let size = Buffer.byteLength(head + foot)
  for (let n = 0; size < HTML_BYTES; n++) {
    const a = article(n)
    html.push(a.html)
    text.push(a.text)
    size += Buffer.byteLength(a.html)
  }
  html.push(foot)
  text.push('\nBoutique Exemple SAS · 12 rue de la République, 69002 Lyon\n')
  return { html: html.join(''), text: text.join('\n') }
}

/** A 120×40 RGB logo with a little texture, so it does not deflate to nothing (about 4.7 KB). */
function logoPng(): Buffer {
  const [w, h] = [120, 40]
  const rows: Buffer[] = []
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3)
    for (let x = 0; x < w; x++) {
      const v = (x * 13 + y * 7 + ((x * y) % 11) * 9) & 0xff
      row.set([42 + (v >> 3), 33 + (v >> 4), 26 + (v >> 2)], 1 + x * 3)
    }
    rows.push(row)
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), 8 + data.length)
    return out
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const TO = 'rcpt-placeholder@bench.invalid'
const MESSAGE_ID = 'msgid-placeholder'
export const MAIL_FROM = 'newsletter@exemple.fr'

export interface BenchMail {
  raw: Buffer
  envelope: { from: string; to: string[] }
}

/**
 * The template, composed by nodemailer, and a maker of message `n` for `to`. The placeholders must
 * appear once each; the result is the same size give or take the address.
 */
export async function marketingMail(): Promise<{
  htmlBytes: number
  rawBytes: number
  message: (n: number, to: string) => BenchMail
}> {
  const { html, text } = newsletter()
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true })
  const info = await composer.sendMail({
    from: { name: 'Boutique Exemple', address: MAIL_FROM },
    to: TO,
    subject: 'Nos nouveautés d’automne : jusqu’à −30 % sur la sélection',
    messageId: `<${MESSAGE_ID}@exemple.fr>`,
    date: new Date(Date.UTC(2025, 9, 14, 8, 30)),
    // What Mautic puts there (its own mailto), which the relay must keep beside the gateway's URL.
    list: { unsubscribe: 'mailto:unsubscribe+653a9c1f0e7b2@mautic.exemple.fr?subject=unsubscribe' },
    headers: { 'X-Mailer': 'Mautic 5', Precedence: 'bulk' },
    text,
    html,
    attachments: [
      {
        filename: 'logo.png',
        content: logoPng(),
        cid: 'logo@exemple.fr',
        contentType: 'image/png',
      },
    ],
  })
  const raw = (info.message as Buffer).toString('latin1')
  const cut = (s: string, marker: string): [string, string] => {
    const at = s.indexOf(marker)
    if (at < 0 || s.indexOf(marker, at + 1) >= 0)
      throw new Error(
        `bench/load/marketing-mail.ts: "${marker}" is not in the composed mail exactly once`,
      )
    return [s.slice(0, at), s.slice(at + marker.length)]
  }
  // Header order is nodemailer's: the recipient before the Message-ID, checked by the cut.
  const [a, rest] = cut(raw, TO)
  const [b, c] = cut(rest, MESSAGE_ID)
  const parts = [a, b, c].map((s) => Buffer.from(s, 'latin1'))
  return {
    htmlBytes: Buffer.byteLength(html),
    rawBytes: raw.length,
    message: (n, to) => ({
      raw: Buffer.concat([
        parts[0]!,
        Buffer.from(to),
        parts[1]!,
        Buffer.from(`bench-${n}`),
        parts[2]!,
      ]),
      envelope: { from: MAIL_FROM, to: [to] },
    }),
  }
}
