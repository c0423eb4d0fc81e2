/**
 * @module The part of mailsplit 5 (no bundled types) the relay uses: its header block parser and the
 * MimeNode that reads a part's headers (the rewrite reads parts with it).
 */
declare module 'mailsplit' {
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
    /** format=flowed (RFC 3676). */
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
