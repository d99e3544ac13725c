import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh data directory; remove it with `rmSync(dir, { recursive: true })` in afterAll. */
export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'rekor-local-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** fetch that resolves to status, headers and parsed JSON (or text). */
export async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** POSTs a JSON (or raw string) body. */
export function post(url: string, body: unknown): ReturnType<typeof call> {
  return call(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
