/** Rekor's `LogEntry`: one entry keyed by its UUID. */
export type LogEntryMap = Record<string, LogEntryAnon>;

/** Rekor's `LogEntryAnon`. */
export interface LogEntryAnon {
  /** Canonical entry body, base64. */
  body: string;
  integratedTime: number;
  /** Hex SHA-256 of the log's public key (DER SPKI). */
  logID: string;
  logIndex: number;
  verification: {
    inclusionProof: {
      /** Signed note for `treeSize`/`rootHash`. */
      checkpoint: string;
      /** Audit path, hex, leaf to root. */
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
    /** Base64 ECDSA signature over the canonical {body, integratedTime, logID, logIndex}. */
    signedEntryTimestamp: string;
  };
}

/** Rekor's `LogInfo` (`GET /api/v1/log`). */
export interface LogInfo {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID: string;
  inactiveShards: unknown[];
}

/** A sigstore `TransparencyLogEntry` (protobuf-specs JSON), as Rekor v2 answers. */
export interface TransparencyLogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime?: string;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}
