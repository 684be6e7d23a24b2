/** WebSocket close codes the control session uses (4000–4999 are application codes). */
export const CONTROL_CLOSE = {
  normal: 1000,
  rejected: 4001,
  helloTimeout: 4002,
  heartbeatTimeout: 4008,
  replaced: 4009,
} as const;
