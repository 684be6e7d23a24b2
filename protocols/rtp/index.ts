/** Loa's RTP toolkit: each module stands alone; this file only gathers them. */
export * from './packet.js';
export * from './sequence.js';
export * from './ntp.js';
export * from './rtcp.js';
export * from './jitter-buffer.js';
export * from './sdp.js';
