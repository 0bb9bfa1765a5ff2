/**
 * The few places where `MqttSession` goes beyond mqtt.js's public API, kept together so an mqtt.js
 * upgrade has one file to check (the integration tests exercise each on the wire):
 *
 * - mqtt.js has no public call to send an AUTH packet (re-authentication) or a PUBACK at a time of
 *   our choosing; both go through its internal `_sendPacket`.
 * - mqtt.js acknowledges a QoS 1 message once its `handleMessage` hook calls back, and processes no
 *   further packet until then. The session must acknowledge later (when the message handlers have
 *   settled, in receive order) without stalling the connection: its hook calls back at once with
 *   an error, which makes mqtt.js skip its own PUBACK and carry on, and the session sends the
 *   PUBACK itself.
 * - mqtt.js resends the unacknowledged QoS 1 packets of the session as soon as a CONNACK arrives,
 *   before announcing the connection; to refuse a CONNACK that reports a lost session without
 *   resending anything, the session wraps the internal `_onConnect`.
 *
 * @module
 */
import type { IConnackPacket, IPublishPacket, MqttClient as MqttJsClient, Packet } from 'mqtt';

type IAuthPacket = Extract<Packet, { cmd: 'auth' }>;

interface Internals {
  _sendPacket(packet: Packet, callback?: (error?: Error) => void): void;
  _onConnect(packet: IConnackPacket): void;
}

function internals(client: MqttJsClient): Internals {
  const candidate = client as unknown as Partial<Internals>;
  if (typeof candidate._sendPacket !== 'function' || typeof candidate._onConnect !== 'function')
    throw new Error(
      'this mqtt.js version does not have the internal _sendPacket/_onConnect methods the SDK needs',
    );
  return candidate as Internals;
}

/** Checks that the mqtt.js client has the internals this module uses; throws otherwise. */
export function checkInternals(client: MqttJsClient): void {
  internals(client);
}

/** Writes an AUTH packet (enhanced authentication) on the current connection. */
export function sendAuthPacket(
  client: MqttJsClient,
  reasonCode: 0x18 | 0x19,
  method: string,
  data: Buffer,
): void {
  const packet: IAuthPacket = {
    cmd: 'auth',
    reasonCode,
    properties: { authenticationMethod: method, authenticationData: data },
  };
  internals(client)._sendPacket(packet);
}

/** Writes a PUBACK (reason code 0) for a received QoS 1 message, if the client is connected. */
export function sendPuback(client: MqttJsClient, messageId: number): boolean {
  // While disconnected mqtt.js would queue the packet and send it on the next connection, where
  // the packet identifier may name another message: never queue an acknowledgement.
  if (!client.connected) return false;
  internals(client)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
  return true;
}

/**
 * Lets `accept` see every successful CONNACK before mqtt.js acts on it; when it returns `false`,
 * mqtt.js never learns about the connection (nothing is resent) and the caller is expected to
 * destroy the connection.
 */
export function guardConnack(
  client: MqttJsClient,
  accept: (connack: IConnackPacket) => boolean,
): void {
  const target = internals(client);
  const original = target._onConnect.bind(client);
  target._onConnect = (connack: IConnackPacket) => {
    if (accept(connack)) original(connack);
  };
}

const acknowledgedLater = new Error('acknowledged by the session');

/**
 * Routes every received PUBLISH to `onPublish` without letting mqtt.js acknowledge QoS 1 messages
 * or wait for them: the caller sends each PUBACK with {@link sendPuback}.
 */
export function takeOverAcknowledgements(
  client: MqttJsClient,
  onPublish: (packet: IPublishPacket) => void,
): void {
  client.handleMessage = (packet, callback) => {
    try {
      onPublish(packet);
    } finally {
      callback(packet.qos === 1 ? acknowledgedLater : undefined);
    }
  };
}
