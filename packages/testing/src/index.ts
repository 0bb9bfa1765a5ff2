// The test support of aio-connector-sdk: a private MQTT 5 broker, generated certificates, a
// recording subscriber and proxy, polling and temporary folders.

export { startTestBroker } from './test-broker.ts';
export type {
  RestartOptions,
  StartTestBrokerOptions,
  TestBroker,
  TestBrokerKind,
} from './test-broker.ts';
export { generateTestPki } from './pki.ts';
export type { CertificateAndKey, TestPki } from './pki.ts';
export { startSubscriber } from './subscriber.ts';
export type {
  ReceivedMessage,
  Subscriber,
  SubscriberOptions,
  WaitForOptions,
} from './subscriber.ts';
export { startRecordingProxy } from './recording-proxy.ts';
export type {
  AuthDecision,
  PacketDirection,
  RecordedPacket,
  RecordingProxy,
  RecordingProxyOptions,
} from './recording-proxy.ts';
export { eventually } from './eventually.ts';
export type { EventuallyOptions } from './eventually.ts';
export { makeTempDir } from './temp-dir.ts';
export type { TempDir } from './temp-dir.ts';
