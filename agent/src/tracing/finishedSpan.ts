// A span built whole, after the fact, from times already known (a request's record, a batch's
// event), in the shape the SDK's span processor and OTLP exporter take (ReadableSpan). The SDK's
// Tracer is made for spans that start now and end later: for a span whose every field is known
// it would check and copy the attributes twice, ask a sampler, read two clocks, and make a context,
// for each span; built here, a span is one object of a fixed shape (bench:records measures the
// difference). Sampling is the caller's (traceSettings.ts); ids are random as the spec asks.
import { SpanStatusCode, TraceFlags, type Attributes, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { randomFillSync } from 'node:crypto';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };

/** What a span's attributes or events are made from when it is serialised, not before. */
export type Lazy<T> = T | (() => T);

export class FinishedSpan implements ReadableSpan {
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  /** Set, never changed in place: a batch's requests share one array. */
  links: Link[] = NO_LINKS;
  status: SpanStatus = UNSET;
  private readonly context: SpanContext;
  private readonly endMs: number;

  /**
   * Times are epoch ms (fractions kept to the microsecond); an end before the start is taken as
   * the start. Attributes and events may be functions, called when the exporter serialises the
   * span: a span waits in the processor's queue for up to OTEL_BSP_SCHEDULE_DELAY, and what it
   * holds there until then is what the garbage collector pays for (a request's record is held
   * by the recorder anyway; a dozen objects made from it per span are not).
   */
  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    readonly resource: Resource,
    readonly instrumentationScope: Scope,
    traceId: string,
    readonly parentSpanContext: SpanContext | undefined,
    private readonly startMs: number,
    endMs: number,
    private readonly attributesOf: Lazy<Attributes>,
    private readonly eventsOf: Lazy<TimedEvent[]> = NO_EVENTS,
  ) {
    this.context = { traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED };
    this.endMs = Math.max(startMs, endMs);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get attributes(): Attributes {
    return typeof this.attributesOf === 'function' ? this.attributesOf() : this.attributesOf;
  }

  get events(): TimedEvent[] {
    return typeof this.eventsOf === 'function' ? this.eventsOf() : this.eventsOf;
  }

  get startTime(): HrTime {
    return hrTime(this.startMs);
  }

  get endTime(): HrTime {
    return hrTime(this.endMs);
  }

  get duration(): HrTime {
    return hrTime(this.endMs - this.startMs);
  }
}

const NO_EVENTS: TimedEvent[] = [];
const NO_LINKS = Object.freeze([]) as unknown as Link[];

/** Epoch ms → [seconds, nanoseconds], to the microsecond (a double holding epoch ms has no finer digits). */
export function hrTime(ms: number): HrTime {
  let s = Math.floor(ms / 1000);
  let ns = Math.round((ms - s * 1000) * 1000) * 1000;
  if (ns >= 1e9) {
    s++;
    ns -= 1e9;
  }
  return [s, ns];
}

// Random ids from a pool filled by the OS's generator a few KiB at a time (one syscall for
// hundreds of ids instead of one per id).
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  // All zeros is the invalid id: vanishingly rare, but a collector would drop the span.
  return hex === ZEROS[bytes] ? randomHex(bytes) : hex;
}

const ZEROS: Record<number, string> = { 8: '0'.repeat(16), 16: '0'.repeat(32) };

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);
