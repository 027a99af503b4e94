import type { IncomingMessage, ServerResponse } from "node:http";
import type { TimerScheduler } from "./timerScheduler.js";

/** Writes an error answer (and its access-log line). */
export type SendError = (status: number, code: string, message: string, extra?: Record<string, string>) => void;

/** Writes the access-log line of an answer already sent. */
export type FinishRequest = (status: number, functionName?: string) => void;

/**
 * `POST /admin/functions/{name}`: runs a non-HTTP (timer) function, as the
 * Functions host's admin API does. Only the master key may call it.
 */
export async function adminInvoke(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  authorized: boolean,
  timers: TimerScheduler,
  sendError: SendError,
  finish: FinishRequest,
): Promise<void> {
  if (!authorized) {
    sendError(401, "Unauthorized", "The master key is required (x-functions-key header).");
    return;
  }
  req.resume();
  const name = decodeURIComponent(url.pathname.slice("/admin/functions/".length));
  if (!timers.has(name)) {
    sendError(404, "NotFound", `No non-HTTP function named "${name}".`);
    return;
  }
  // The Azure host answers 202 at once; this one answers after the run so
  // scripts and tests can rely on its effects.
  try {
    await timers.fire(name);
    res.writeHead(202).end();
    finish(202, name);
  } catch {
    sendError(500, "InternalError", `Function "${name}" failed; see the host log.`);
  }
}
