// The public API of @aio-connector/sse: a curated list.

// the connector
export { SseConnector, catchAllEventType, defaultSseConnectorOptions } from './sse-connector.ts';
export type {
  SseConnectorOptions,
  SseHttpOptions,
  SseResumeMode,
  SseStreamStatus,
} from './sse-connector.ts';
export {
  sseConfigurationKeys,
  sseConnectorOptionsFromConfiguration,
  sseEndpointConfiguration,
} from './sse-configuration.ts';
export type { SseEndpointConfiguration } from './sse-configuration.ts';

// resume positions
export {
  createMemoryLastEventIdStore,
  createStateStoreLastEventIdStore,
} from './last-event-id-store.ts';
export type { LastEventIdStore, StateStoreLastEventIdStoreOptions } from './last-event-id-store.ts';

// streams and decoding
export { SseStream, defaultSseStreamOptions } from './sse-stream.ts';
export type {
  SseClientSource,
  SseReconnectOptions,
  SseStreamHandler,
  SseStreamItem,
  SseStreamOptions,
  SseStreamState,
  SseStreamStats,
} from './sse-stream.ts';
export { SseDecoder, defaultSseDecoderOptions } from './sse-decoder.ts';
export type {
  SseDecoded,
  SseDecoderOptions,
  SseDecoderStats,
  SseMessage,
  SseSkipped,
} from './sse-decoder.ts';
export { SseStreamError, isSseStreamError } from './sse-stream-error.ts';
export type { SseStreamErrorCode, SseStreamErrorOptions } from './sse-stream-error.ts';
