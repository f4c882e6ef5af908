/**
 * The editor's end of a run's trace: a W3C trace context (`traceparent`) sent with each
 * runCrew, which the language server, the team server and the worker continue, so one
 * trace id names a run from the editor's request to the model calls. The editor exports
 * no span of its own: the id is what joins its log lines to the trace.
 */
export function newTraceparent(random: (size: number) => Uint8Array = randomBytes): string {
  let traceId = hex(random(16));
  let spanId = hex(random(8));
  // All zeros are invalid ids (W3C Trace Context); one random draw in 2^64 or more.
  if (/^0+$/.test(traceId)) traceId = `${traceId.slice(0, -1)}1`;
  if (/^0+$/.test(spanId)) spanId = `${spanId.slice(0, -1)}1`;
  return `00-${traceId}-${spanId}-01`;
}

/** The trace id inside a traceparent (undefined for anything else). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')?.[1];
}

/** runCrew arguments with a trace context (the caller's, when it brought one). */
export function withTrace<T extends { traceparent?: string }>(args: T, make: () => string = newTraceparent): T {
  return args.traceparent ? args : { ...args, traceparent: make() };
}

function randomBytes(size: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(size));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
