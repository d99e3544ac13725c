/** A URL for display: its password (and a user name that carries a token) shown as `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // not a URL: show nothing of it that could be a secret
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
