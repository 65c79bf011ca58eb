// How a `kju serve` page proves it holds the token: on every WebSocket handshake it offers two
// subprotocols, SERVE_PROTOCOL and `kju.token.<token>`; the server checks the second and answers
// with the first. No cookie (cookies ignore ports, so one would reach every service on the host)
// and no token in a URL the server sees. Shared by main/serve/ and renderer/bridge/.

/** The subprotocol the server echoes back once the token matched. */
export const SERVE_PROTOCOL = 'kju.v1';
export const TOKEN_PROTOCOL_PREFIX = 'kju.token.';

/** What a client passes as `new WebSocket(url, protocols)`. */
export function serveProtocols(token: string): string[] {
  return [SERVE_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`];
}
