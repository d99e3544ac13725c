/**
 * Why a server could not listen on `host:port`, and what to change, in the
 * words of the flag or key that set it (`--port`, `metrics.port`, ...).
 */
export function listenFailureText(
  cause: unknown,
  where: { host: string; port: number; portOption: string; hostOption: string },
): string {
  const code = (cause as { code?: unknown }).code;
  const at = `${where.host}:${where.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${at} is in use by another process; stop it, or pick another port with ${where.portOption}`;
    case 'EACCES':
    case 'EPERM':
      return `listening on ${at} is not allowed (ports below 1024 need privileges); pick another port with ${where.portOption}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `the host ${JSON.stringify(where.host)} does not resolve; pass an address or name of this machine with ${where.hostOption}, e.g. 127.0.0.1 or 0.0.0.0`;
    case 'EADDRNOTAVAIL':
      return `${where.host} is not an address of this machine; pass one of its addresses with ${where.hostOption}, e.g. 127.0.0.1 or 0.0.0.0`;
    default:
      return `cannot listen on ${at} (${typeof code === 'string' ? code : (cause as Error)?.message}); check ${where.hostOption} and ${where.portOption}`;
  }
}
