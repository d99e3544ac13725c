import type { IncomingMessage, ServerResponse } from 'node:http';
import { RekorLocalError } from '../errors';
import type { FaultController } from '../faults';
import { readJson } from './body';
import { sendJson } from './respond';

export const ADMIN_FAULTS_PATH = '/admin/faults';

/**
 * `/admin/faults`: `POST` sets a fault (JSON FaultSpec), `DELETE` clears it,
 * `GET` shows it. Answers 404 when fault injection is off.
 */
export async function routeAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  faults: FaultController,
): Promise<void> {
  if (!faults.enabled)
    throw new RekorLocalError('FAULTS_DISABLED', 'fault injection is off; start with --faults');
  switch (req.method) {
    case 'POST': {
      const fault = faults.set((await readJson(req, 4096)) as never);
      return sendJson(res, 200, { fault });
    }
    case 'DELETE':
      faults.clear();
      return sendJson(res, 200, { fault: null });
    case 'GET':
      return sendJson(res, 200, { fault: faults.current() ?? null });
    default:
      throw new RekorLocalError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${ADMIN_FAULTS_PATH}`);
  }
}
