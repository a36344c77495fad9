import { createHash } from 'node:crypto';
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';

/** Passes bytes through unchanged while counting them and computing their SHA-256. */
export class DigestStream extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');
  private digest?: string;

  constructor(options?: TransformOptions) {
    super(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  /** Hex digest; call once the stream has ended. */
  get sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}
