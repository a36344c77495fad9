// Errors in the domain's own terms. Numbering, the renderer, the export and the rest throw these and
// never speak HTTP; server/http/errors.ts is the one place that turns each kind into a status code.
export type DomainErrorKind =
  /** The request asks for something the rules forbid for this resource's state (409). */
  | 'conflict'
  /** A resource that does not exist, or is not the caller's (404). */
  | 'not_found'
  /** Bad input the schemas could not catch (400). */
  | 'invalid'
  /** A dependency is not there or is full for now; retrying later will work (503, Retry-After). */
  | 'unavailable'
  /** A dependency took too long (504). */
  | 'timeout'
  /** The client left before the answer (499, logged only). */
  | 'client_gone'
  /** The server cannot go on without an operator (500): serials exhausted, say. */
  | 'exhausted';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable, machine-readable: becomes error.code in the JSON answer. */
    readonly code: string,
    message: string,
    /** For 'unavailable': when a retry makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const isDomainError = (err: unknown, code?: string): err is DomainError =>
  err instanceof DomainError && (code === undefined || err.code === code);
