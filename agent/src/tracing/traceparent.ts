// The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header):
// "00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>". A client that sends one has its
// request's span continue the client's trace, as a child of the client's span.

export interface ParentContext {
  traceId: string;
  spanId: string;
  /** The client's sampled flag (bit 0 of the flags). */
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The parent named by a traceparent value, or undefined for none or an invalid one (the spec: a
 * receiver that cannot parse it starts a new trace). Versions above 00 may carry more fields after
 * the flags; version 00 may not, and version ff is invalid. All-zero ids are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined): ParentContext | undefined {
  // Several traceparent headers: the spec says the receiver may not pick one.
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}
