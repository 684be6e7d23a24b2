/**
 * The one message protocol between the control plane (main thread) and the
 * media plane (worker): commands in, events out. Commands are TypeBox schemas
 * so the worker validates what it receives and answers a bad command with an
 * `error` event instead of crashing. Times on the wire are wall-clock epoch ms.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_PRIORITY, MIN_PRIORITY } from '../domain/priority.js';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Ms = Type.Number({ minimum: 0, maximum: 1e12 });
const WallMs = Type.Number({ minimum: 0, maximum: 1e14 });
const Amplitude = Type.Number({ minimum: 0, maximum: 1 });
const Hz = Type.Number({ minimum: 1, maximum: 24_000 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Host = Type.String({ minLength: 1, maxLength: 255 });
export const CodecNameSchema = Type.Union([
  Type.Literal('opus'),
  Type.Literal('pcmu'),
  Type.Literal('pcma'),
  Type.Literal('l16'),
]);

/** What a programme plays: leaves and combinators, nested freely. */
export const SourceSpecSchema = Type.Recursive((This) =>
  Type.Union([
    Type.Object({ kind: Type.Literal('file'), path: Type.String({ minLength: 1 }), startMs: Type.Optional(Ms) }, { additionalProperties: false }),
    Type.Object(
      { kind: Type.Literal('tone'), freqHz: Hz, amplitude: Type.Optional(Amplitude), durationMs: Type.Optional(Ms) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('siren'),
        lowHz: Hz,
        highHz: Hz,
        periodMs: Type.Number({ minimum: 20, maximum: 60_000 }),
        /** Sweep shape (codecs/tone.ts Siren `kind`); default 'wail'. */
        shape: Type.Optional(Type.Union([Type.Literal('wail'), Type.Literal('yelp'), Type.Literal('hilo')])),
        amplitude: Type.Optional(Amplitude),
        durationMs: Type.Optional(Ms),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('clicks'),
        intervalMs: Type.Number({ minimum: 20, maximum: 60_000 }),
        amplitude: Type.Optional(Amplitude),
        durationMs: Type.Optional(Ms),
      },
      { additionalProperties: false },
    ),
    Type.Object({ kind: Type.Literal('silence'), durationMs: Type.Optional(Ms) }, { additionalProperties: false }),
    /** A station's stream URL decoded in realtime (a live source: it keeps running while unheard). */
    Type.Object(
      {
        kind: Type.Literal('relay'),
        url: Type.String({ minLength: 1, maxLength: 2000 }),
        /** Prebuffer and latency cap, ms (default engine/sources/relay.ts RELAY_BUFFER_MS). */
        bufferMs: Type.Optional(Type.Number({ minimum: 100, maximum: 30_000 })),
      },
      { additionalProperties: false },
    ),
    Type.Object({ kind: Type.Literal('sequence'), items: Type.Array(This, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
    Type.Object(
      {
        kind: Type.Literal('repeat'),
        source: This,
        /** 0 = until stopped. */
        times: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
        gapMs: Type.Optional(Ms),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('gain'), source: This, gainDb: Type.Number({ minimum: -120, maximum: 40 }) },
      { additionalProperties: false },
    ),
  ]),
);
export type SourceSpec = Static<typeof SourceSpecSchema>;

export const ZoneNodeSchema = Type.Object(
  { id: Id, parentId: Type.Union([Id, Type.Null()]) },
  { additionalProperties: false },
);
export type ZoneNode = Static<typeof ZoneNodeSchema>;

const AddressSchema = Type.Object(
  { host: Host, port: Port, rtcpPort: Type.Optional(Port) },
  { additionalProperties: false },
);
export type UdpAddress = Static<typeof AddressSchema>;

export const CommandSchema = Type.Union([
  /** Replaces the engine's copy of the zone tree. Programmes and endpoints on removed zones end/detach. */
  Type.Object({ type: Type.Literal('setZones'), zones: Type.Array(ZoneNodeSchema, { maxItems: 100_000 }) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('play'),
      programmeId: Id,
      /** Target zones: every zone at or below them hears the programme (subject to priority). */
      zones: Type.Array(Id, { minItems: 1, maxItems: 100_000 }),
      priority: Type.Number({ minimum: MIN_PRIORITY, maximum: MAX_PRIORITY }),
      source: SourceSpecSchema,
      /** Ends the programme this long after it started (counted from its first frame, preempted or not). */
      maxDurationMs: Type.Optional(Type.Number({ minimum: 1, maximum: 1e10 })),
      /** Wall-clock epoch ms: start exactly on the frame due then (past or absent: as soon as ready). */
      startAt: Type.Optional(WallMs),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('stop'), programmeId: Id }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('attachEndpoint'),
      endpointId: Id,
      zoneId: Id,
      codec: CodecNameSchema,
      /**
       * How the worker learns where to send: from the agent's packets on the
       * RTP port — a media keepalive (protocols/control/media-keepalive.ts)
       * carrying `token`, or (weaker, spoofable) any RTCP packet whose sender
       * SSRC is `ssrc` — or a fixed `address` for receive-only devices. Exactly one.
       */
      learn: Type.Optional(
        Type.Union([
          Type.Object({ token: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false }),
          Type.Object({ ssrc: Type.Integer({ minimum: 0, maximum: 0xffffffff }) }, { additionalProperties: false }),
        ]),
      ),
      address: Type.Optional(AddressSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('detachEndpoint'), endpointId: Id }, { additionalProperties: false }),
  /** One multicast group per zone (null removes it). Sent from the socket bound to Engine.start's multicast interface. */
  Type.Object(
    {
      type: Type.Literal('setZoneMulticast'),
      zoneId: Id,
      group: Type.Union([
        Type.Object(
          {
            address: Host,
            port: Port,
            codec: CodecNameSchema,
            rtcpPort: Type.Optional(Port),
            /** IP TTL of the group's packets (IP_MULTICAST_TTL); default: the plane's (1, the local segment). */
            ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('status'), requestId: Id }, { additionalProperties: false }),
  /** Stops everything, closes sockets; the worker then exits. */
  Type.Object({ type: Type.Literal('shutdown') }, { additionalProperties: false }),
]);
export type Command = Static<typeof CommandSchema>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
export type PlayCommand = CommandOf<'play'>;
export type AttachEndpointCommand = CommandOf<'attachEndpoint'>;
export type CodecNameWire = Static<typeof CodecNameSchema>;

export type EndReason = 'completed' | 'stopped' | 'max-duration' | 'error' | 'zone-removed';

/** Per zone: what happened to a programme there. The as-run log is built from these. */
export interface ProgrammeZoneEvent {
  type: 'programme';
  programmeId: string;
  zoneId: string;
  state: 'on-air' | 'preempted' | 'resumed' | 'ended';
  /** Wall-clock epoch ms of the frame where it happened. */
  atMs: number;
  frame: number;
  /** Media position in the programme (ms) in this zone at that frame. */
  positionMs: number;
  /** For 'preempted': the programme that took the air. */
  by?: string;
  /** For 'ended'. */
  reason?: EndReason;
  message?: string;
}

/** Once per programme, when it is over everywhere. */
export interface ProgrammeEndedEvent {
  type: 'programmeEnded';
  programmeId: string;
  reason: EndReason;
  message?: string;
  atMs: number;
}

/**
 * Once per programme, on the first frame that runs it: where it went on air and where it
 * waits behind a higher priority. Lets the API answer a play as soon as the programme has a
 * frame, without asking for status.
 */
export interface ProgrammeStartedEvent {
  type: 'programmeStarted';
  programmeId: string;
  /** The frame it started on, and that frame's wall-clock epoch ms. */
  frame: number;
  atMs: number;
  zones: { zoneId: string; state: 'on-air' | 'waiting' | 'ended' }[];
}

export interface EndpointAddressEvent {
  type: 'endpointAddress';
  endpointId: string;
  host: string;
  port: number;
}

/** From the RTCP receiver reports an endpoint sends about its zone stream. */
export interface EndpointStatsEvent {
  type: 'endpointStats';
  endpointId: string;
  fractionLost: number;
  cumulativeLost: number;
  /** Interarrival jitter, ms. */
  jitterMs: number;
  /** Round trip from LSR/DLSR, ms (undefined when the report has no LSR). */
  rttMs?: number;
  atMs: number;
}

/** Send failures towards one destination of a stream (an endpoint id, or 'multicast'). */
export interface DestinationSendStats {
  key: string;
  host: string;
  port: number;
  /** Datagrams the kernel refused (ENETUNREACH, EPERM, EMSGSIZE…). */
  errors: number;
  /** Datagrams dropped because the socket's send queue was at its limit. */
  dropped: number;
  /** errno code of the last error. */
  lastError: string | null;
}

export interface StreamStats {
  zoneId: string;
  codec: CodecNameWire;
  ssrc: number;
  packets: number;
  octets: number;
  destinations: number;
  encodes: number;
  /** Send errors and queue drops of this stream since it started (RTP and RTCP). */
  sendErrors?: number;
  sendDropped?: number;
  /** Destinations with errors or drops, most affected first (at most 20). */
  failing?: DestinationSendStats[];
}

export interface StreamStatsEvent extends StreamStats {
  type: 'streamStats';
  atMs: number;
}

export interface EngineCounters {
  /** UDP packets that were not valid RTP/RTCP or keepalives. */
  badPackets: number;
  /** Keepalives with an unknown token or ssrc. */
  unknownPackets: number;
  /** Frames the clock skipped after stalls. */
  skippedFrames: number;
  lateWakeups: number;
  /** Datagrams the kernel refused, all streams (and socket 'error' events). */
  sendErrors: number;
  /** Datagrams dropped because a socket's send queue was at its limit. */
  sendDropped?: number;
  /** The limit (queued datagrams per socket) in force. */
  maxQueuedSends?: number;
  /** How datagrams reach the kernel: the native sendmmsg addon, or dgram.send (engine/send-backend.ts). */
  sendBackend?: 'sendmmsg' | 'dgram';
  rejectedCommands: number;
}

export interface StatusEvent {
  type: 'status';
  requestId: string;
  frame: number;
  running: boolean;
  wallT0: number;
  zones: number;
  buses: { zoneId: string; onAir: string | null; endpoints: number }[];
  programmes: { programmeId: string; priority: number; state: 'pending' | 'running'; zones: { zoneId: string; state: string; positionMs: number }[] }[];
  streams: StreamStats[];
  endpoints: {
    endpointId: string;
    zoneId: string;
    codec: CodecNameWire;
    host: string | null;
    port: number | null;
    /** Send errors / queue drops towards this endpoint (while it stays attached). */
    sendErrors?: number;
    sendDropped?: number;
    lastSendError?: string | null;
  }[];
  counters: EngineCounters;
}

export interface ErrorEvent {
  type: 'error';
  code: 'bad-command' | 'unknown-zone' | 'unknown-programme' | 'duplicate-programme' | 'unknown-endpoint' | 'bad-source' | 'internal';
  message: string;
  command?: string;
  programmeId?: string;
  endpointId?: string;
}

export interface ReadyEvent {
  type: 'ready';
  rtpPort: number;
  wallT0: number;
  /** The send backend chosen at start, and why it is 'dgram' when it is. */
  sendBackend?: 'sendmmsg' | 'dgram';
  sendBackendReason?: string | null;
}

export type EngineEvent =
  | ReadyEvent
  | ProgrammeZoneEvent
  | ProgrammeEndedEvent
  | ProgrammeStartedEvent
  | EndpointAddressEvent
  | EndpointStatsEvent
  | StreamStatsEvent
  | StatusEvent
  | ErrorEvent;
export type EngineEventType = EngineEvent['type'];

export type ValidationResult = { ok: true; command: Command } | { ok: false; message: string; command?: string };

/** Checks an untrusted message; never throws. */
export function validateCommand(msg: unknown): ValidationResult {
  try {
    if (Value.Check(CommandSchema, msg)) return { ok: true, command: msg };
    const type = typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' ? (msg as { type: string }).type : undefined;
    return { ok: false, message: describeErrors(CommandSchema, msg, type), command: type };
  } catch (err) {
    return { ok: false, message: `unreadable command: ${(err as Error).message}` };
  }
}

function describeErrors(schema: TSchema, msg: unknown, type: string | undefined): string {
  const known = CommandSchema.anyOf.find((s) => (s.properties.type as { const: string }).const === type);
  if (!known) return type === undefined ? 'command has no type' : `unknown command type '${type}'`;
  const first = Value.Errors(known, msg).First();
  void schema;
  return first ? `${type}: ${first.path || '/'} ${first.message}` : `${type}: invalid`;
}
