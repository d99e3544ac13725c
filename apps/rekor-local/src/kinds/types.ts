/** A proposed entry accepted by its kind: the body Rekor would store, canonicalized. */
export interface CanonicalEntry {
  kind: string;
  apiVersion: string;
  /** JCS-canonical JSON of the entry as stored in the log; its RFC 6962 leaf is this buffer. */
  body: Buffer;
}
