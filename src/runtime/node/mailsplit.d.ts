/** @module The part of mailsplit 5 (no bundled types) the relay uses: split, rewrite, join a MIME stream. */
declare module 'mailsplit' {
  import type { Readable, Transform, Writable } from 'node:stream'

  export class Headers {
    constructor(headers: Buffer | string)
    get(key: string): string[]
    getFirst(key: string): string
    hasHeader(key: string): boolean
    add(key: string, value: string, index?: number): void
    remove(key: string): void
    build(lineEnd?: string): Buffer
    getList(): { key: string; line: string }[]
  }

  export interface MimeNode {
    type: 'node'
    root: boolean
    headers: Headers
    contentType: string | false
    charset: string | false
    encoding: string | false
    disposition: string | false
    multipart: string | false
    setCharset(charset: string): void
  }

  export class Splitter extends Transform {
    constructor(options?: { ignoreEmbedded?: boolean; maxHeadSize?: number })
  }

  export class Joiner extends Transform {}

  export class Rewriter extends Transform {
    constructor(filter: (node: MimeNode) => boolean)
    on(
      event: 'node',
      listener: (data: { node: MimeNode; decoder: Readable; encoder: Writable }) => void,
    ): this
    on(event: string, listener: (...args: never[]) => void): this
  }
}
