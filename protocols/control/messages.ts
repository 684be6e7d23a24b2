/**
 * The endpoint control channel: JSON messages over one WebSocket between a
 * speaker agent and the server. Every message carries the protocol version
 * `v` and a `type`; both sides validate what they receive against the
 * schemas below and reject (with a reason, counted) anything else.
 *
 * Times are milliseconds as numbers: `t0`/`t3` on the agent's clock,
 * `t1`/`t2` on the server's wall-clock (Unix epoch ms).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export const CONTROL_PROTOCOL_VERSION = 1;
/** Larger text frames are rejected before parsing (a stats message is ~1 KiB). */
export const MAX_CONTROL_MESSAGE_BYTES = 16 * 1024;
/** WebSocket path the server mounts the control channel on. */
export const CONTROL_PATH = '/api/v1/endpoints/control';

const V = Type.Literal(CONTROL_PROTOCOL_VERSION);
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Ms = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });
const CodecNameSchema = Type.String({ minLength: 1, maxLength: 16, pattern: '^[a-z0-9]+$' });
const RtpTarget = Type.Object(
  { host: Type.String({ minLength: 1, maxLength: 255 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);

// ---- agent → server --------------------------------------------------------

export const HelloSchema = Type.Object(
  {
    v: V,
    type: Type.Literal('hello'),
    endpointId: Id,
    token: Type.String({ minLength: 1, maxLength: 512 }),
    /** Codecs the agent can decode, most preferred first. */
    codecs: Type.Array(CodecNameSchema, { minItems: 1, maxItems: 8 }),
    agentVersion: Type.String({ maxLength: 64 }),
    /** Feature words, e.g. 'clock-sync', 'media-keepalive', 'rtcp-rr', 'output:wav'. */
    capabilities: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 }),
  },
  { additionalProperties: false },
);

export const TimeSyncRequestSchema = Type.Object(
  { v: V, type: Type.Literal('time-sync'), id: Count, t0: Ms },
  { additionalProperties: false },
);

export const EndpointStatsSchema = Type.Object(
  {
    /** Packets expected but never received, since the session started. */
    packetsLost: Count,
    packetsReceived: Count,
    /** Loss fraction of the last report interval, 0..1. */
    lossFraction: Type.Number({ minimum: 0, maximum: 1 }),
    /** RFC 3550 interarrival jitter, in ms. */
    jitterMs: Ms,
    /** How long audio really waits in the agent before it is played, ms (mean of the interval). */
    bufferDelayMs: Type.Number(),
    /** Slots where the buffer was empty while a stream was expected. */
    underruns: Count,
    /** Packets that arrived after their slot had been played. */
    late: Count,
    /** Frames replaced by packet loss concealment. */
    concealed: Count,
    /** Packets dropped as malformed, wrong payload type or wrong SSRC/source. */
    dropped: Count,
    /** Estimated server clock minus agent clock, ms. */
    clockOffsetMs: Type.Number(),
    /** Round-trip time of the best recent time-sync sample, ms. */
    clockRttMs: Ms,
    /** Estimated agent clock drift against the server, parts per million. */
    clockDriftPpm: Type.Number(),
    clockSynced: Type.Boolean(),
    playoutDelayMs: Ms,
    /** Whether audio frames (not silence) are being played right now. */
    playing: Type.Boolean(),
    /** Control messages this agent rejected. */
    controlRejected: Count,
  },
  { additionalProperties: false },
);

export const StatsSchema = Type.Object(
  { v: V, type: Type.Literal('stats'), stats: EndpointStatsSchema },
  { additionalProperties: false },
);

export const PongSchema = Type.Object(
  { v: V, type: Type.Literal('pong'), nonce: Count },
  { additionalProperties: false },
);

/** The agent played the first frame of a programme it was asked to watch (alerts' delivery report). */
export const PlayedSchema = Type.Object(
  {
    v: V,
    type: Type.Literal('played'),
    programmeId: Id,
    /** Server wall-clock (the agent's synced estimate) when that frame reached the loudspeaker. */
    atMs: Ms,
  },
  { additionalProperties: false },
);

// ---- server → agent --------------------------------------------------------

export const WelcomeSchema = Type.Object(
  {
    v: V,
    type: Type.Literal('welcome'),
    sessionId: Id,
    zoneId: Id,
    codec: CodecNameSchema,
    payloadType: Type.Integer({ minimum: 0, maximum: 127 }),
    /** Where the agent sends its keepalives and RTCP; RTP comes back from there. */
    rtp: RtpTarget,
    /** Short random token the agent puts in its UDP keepalives (see media-keepalive.ts). */
    mediaToken: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    playoutDelayMs: Type.Number({ minimum: 0, maximum: 10_000 }),
    keepaliveIntervalMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
    statsIntervalMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
    heartbeatIntervalMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  },
  { additionalProperties: false },
);

export const RejectSchema = Type.Object(
  {
    v: V,
    type: Type.Literal('reject'),
    /** 'bad-credentials' | 'no-common-codec' | 'bad-hello' | 'hello-timeout' | 'server-error' … */
    code: Type.String({ minLength: 1, maxLength: 64 }),
    message: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const TimeSyncReplySchema = Type.Object(
  { v: V, type: Type.Literal('time-sync-reply'), id: Count, t0: Ms, t1: Ms, t2: Ms },
  { additionalProperties: false },
);

/** A live change of the session (never a reconnect): only the fields that changed. */
export const ConfigSchema = Type.Object(
  {
    v: V,
    type: Type.Literal('config'),
    zoneId: Type.Optional(Id),
    codec: Type.Optional(CodecNameSchema),
    payloadType: Type.Optional(Type.Integer({ minimum: 0, maximum: 127 })),
    playoutDelayMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
    rtp: Type.Optional(RtpTarget),
  },
  { additionalProperties: false },
);

export const PingSchema = Type.Object(
  { v: V, type: Type.Literal('ping'), nonce: Count },
  { additionalProperties: false },
);

/** Report (with 'played') the first frame of this programme played whose server time is at or after fromMs. */
export const WatchSchema = Type.Object(
  { v: V, type: Type.Literal('watch'), programmeId: Id, fromMs: Ms },
  { additionalProperties: false },
);

export type HelloMessage = Static<typeof HelloSchema>;
export type TimeSyncRequestMessage = Static<typeof TimeSyncRequestSchema>;
export type EndpointStats = Static<typeof EndpointStatsSchema>;
export type StatsMessage = Static<typeof StatsSchema>;
export type PongMessage = Static<typeof PongSchema>;
export type WelcomeMessage = Static<typeof WelcomeSchema>;
export type RejectMessage = Static<typeof RejectSchema>;
export type TimeSyncReplyMessage = Static<typeof TimeSyncReplySchema>;
export type ConfigMessage = Static<typeof ConfigSchema>;
export type PingMessage = Static<typeof PingSchema>;
export type PlayedMessage = Static<typeof PlayedSchema>;
export type WatchMessage = Static<typeof WatchSchema>;

export type AgentMessage = HelloMessage | TimeSyncRequestMessage | StatsMessage | PongMessage | PlayedMessage;
export type ServerMessage = WelcomeMessage | RejectMessage | TimeSyncReplyMessage | ConfigMessage | PingMessage | WatchMessage;
export type ControlMessage = AgentMessage | ServerMessage;
export type ControlMessageType = ControlMessage['type'];

/** A message to encode: the version is filled in. */
export type Outgoing<M extends ControlMessage> = M extends ControlMessage ? Omit<M, 'v'> : never;

const AGENT_SCHEMAS = {
  hello: HelloSchema,
  'time-sync': TimeSyncRequestSchema,
  stats: StatsSchema,
  pong: PongSchema,
  played: PlayedSchema,
} as const;
const SERVER_SCHEMAS = {
  welcome: WelcomeSchema,
  reject: RejectSchema,
  'time-sync-reply': TimeSyncReplySchema,
  config: ConfigSchema,
  ping: PingSchema,
  watch: WatchSchema,
} as const;

function compileAll<T extends Record<string, TSchema>>(schemas: T): Map<string, TypeCheck<TSchema>> {
  return new Map(Object.entries(schemas).map(([k, s]) => [k, TypeCompiler.Compile(s)]));
}
const agentCheckers = compileAll(AGENT_SCHEMAS);
const serverCheckers = compileAll(SERVER_SCHEMAS);

/** Which side sent the text being decoded: the server decodes 'agent' messages, the agent 'server' ones. */
export type MessageSource = 'agent' | 'server' | 'any';

export type DecodeResult<M> = { ok: true; msg: M } | { ok: false; reason: string };

export function encodeMessage(msg: Outgoing<ControlMessage> | ControlMessage): string {
  return JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, ...msg });
}

/**
 * Parses and validates one control message. Never throws: bad input yields
 * `{ok:false, reason}` where reason starts with a short code
 * ('too-large', 'not-json', 'not-object', 'unsupported-version',
 * 'unknown-type', 'invalid') usable as a counter key (see reasonCode).
 */
export function decodeMessage(text: string | Buffer, from: 'agent'): DecodeResult<AgentMessage>;
export function decodeMessage(text: string | Buffer, from: 'server'): DecodeResult<ServerMessage>;
export function decodeMessage(text: string | Buffer, from?: MessageSource): DecodeResult<ControlMessage>;
export function decodeMessage(text: string | Buffer, from: MessageSource = 'any'): DecodeResult<ControlMessage> {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (size > MAX_CONTROL_MESSAGE_BYTES) return { ok: false, reason: `too-large: ${size} bytes > ${MAX_CONTROL_MESSAGE_BYTES}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not-json: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not-object' };
  const obj = value as Record<string, unknown>;
  if (obj.v !== CONTROL_PROTOCOL_VERSION) return { ok: false, reason: `unsupported-version: ${JSON.stringify(obj.v)}` };
  const type = obj.type;
  if (typeof type !== 'string') return { ok: false, reason: 'unknown-type: missing' };
  const checker =
    (from !== 'server' ? agentCheckers.get(type) : undefined) ?? (from !== 'agent' ? serverCheckers.get(type) : undefined);
  if (!checker) return { ok: false, reason: `unknown-type: ${type.slice(0, 40)}` };
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    return { ok: false, reason: `invalid: ${type} ${first ? `${first.path || '/'} ${first.message}` : ''}`.trimEnd() };
  }
  return { ok: true, msg: value as ControlMessage };
}

/** The counter key of a rejection reason ('invalid: hello /token …' → 'invalid'). */
export function reasonCode(reason: string): string {
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

/** Counts rejected messages by reason code; both sides keep one. */
export class RejectCounter {
  total = 0;
  readonly byCode: Record<string, number> = {};
  lastReason = '';

  count(reason: string): void {
    this.total++;
    const code = reasonCode(reason);
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    this.lastReason = reason;
  }
}
