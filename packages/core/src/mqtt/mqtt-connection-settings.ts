/**
 * The resolved settings of the connector's MQTT connection. `runtime/` builds them from the Akri
 * mounts (`MQTT_CONNECTION_CONFIGURATION`, the broker trust bundle, the SAT file, `CONNECTOR_ID`);
 * `MqttSession` consumes them. Tests and embedders may build them by hand.
 *
 * @module
 */

/** Everything `MqttSession` needs to connect. */
export interface MqttConnectionSettings {
  /** Broker host name or IP. */
  readonly hostname: string;
  /** Broker TCP port. */
  readonly port: number;
  /** The MQTT client id, used verbatim (the Akri contract: `CONNECTOR_ID` exactly). */
  readonly clientId: string;
  /** Keep-alive in seconds. Default 60. */
  readonly keepAliveInSeconds?: number;
  /** Session expiry in seconds (CleanStart is always false). Default 3600. */
  readonly sessionExpiryInSeconds?: number;
  /** Receive Maximum (from `maxInflightMessages`). Default: the broker's/library default. */
  readonly receiveMaximum?: number;
  /** Connect with TLS. */
  readonly useTls: boolean;
  /** PEM certificates trusted for the broker (every PEM in the trust bundle folder). */
  readonly caCertificates?: readonly string[];
  /** Client certificate chain (PEM) for mutual TLS. */
  readonly clientCertificate?: string;
  /** Client private key (PEM) for mutual TLS. Never logged. */
  readonly clientKey?: string;
  /** Path of the K8S-SAT token file; when set, CONNECT uses enhanced auth method `K8S-SAT`. */
  readonly satFile?: string;
  /** Username/password auth (not used by AIO pods; for other brokers in development). */
  readonly username?: string;
  /** Never logged. */
  readonly password?: string;
  /** TLS server name to verify, when it differs from `hostname`. */
  readonly tlsServerName?: string;
}
