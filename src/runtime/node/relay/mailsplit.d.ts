/**
 * @module The part of mailsplit 5 (no bundled types) the relay uses: split, rewrite, join a MIME
 * stream, and the MimeNode that parses a part's headers (the in-place rewrite reads parts with it).
 */
declare module 'mailsplit' {
  import type { Readable, Transform, Writable } from 'node:stream'

  export class Headers {
    constructor(headers: Buffer | string)
    get(key: string): string[]
    getFirst(key: string): string
    hasHeader(key: string): boolean
    add(key: string, value: string, index?: number): void
    remove(key: string): void
    /** Replaces the header where it is (added on top when missing). */
    update(key: string, value: string): void
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

declare module 'mailsplit/lib/mime-node.js' {
  import type { MimeNode as Node } from 'mailsplit'

  /** A part as mailsplit reads it: `addHeaderChunk` the header block, then `parseHeaders`. */
  class MimeNode implements Node {
    constructor(parent: MimeNode | false, config: object)
    type: 'node'
    root: boolean
    headers: Node['headers']
    contentType: string | false
    charset: string | false
    encoding: string | false
    disposition: string | false
    multipart: string | false
    /** format=flowed: the streaming rewrite drops it, so the in-place one leaves such parts to it. */
    flowed: boolean
    /** The boundary parameter, whatever the content type. */
    _boundary: Buffer | false
    addHeaderChunk(chunk: Buffer): void
    parseHeaders(): void
    getHeaders(): Buffer
    setCharset(charset: string): void
  }
  export default MimeNode
}
