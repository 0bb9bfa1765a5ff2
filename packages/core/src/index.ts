// The public API of @aio-connector/core: a curated list, grouped by layer.

// errors, logging, retry
export {
  AioError,
  ConfigError,
  ProtocolError,
  abortError,
  errorCodes,
  isAioError,
} from './errors.ts';
export type {
  AioErrorCode,
  AioErrorOptions,
  ProtocolErrorInfo,
  ProtocolErrorKind,
} from './errors.ts';
export { createJsonLogger, logLevels, redact, redactUrl, silentLogger } from './logger.ts';
export type { LogFn, LogLevel, Logger } from './logger.ts';
export {
  computeBackoff,
  defaultRetryOptions,
  isRetryable,
  retry,
  retryAfterOf,
  sleep,
  throwIfAborted,
} from './retry.ts';
export type { FailedAttempt, RetryOptions } from './retry.ts';
export { createTelemetry, instrumentationScope, metricNames, noopTelemetry } from './telemetry.ts';
export type {
  Telemetry,
  TelemetryAttributes,
  TelemetryOptions,
  TelemetrySpan,
} from './telemetry.ts';
export { parseConfigurationObject, parseLenientJson, stripLenientJson } from './lenient-json.ts';

// mqtt
export type { MqttConnectionSettings } from './mqtt/mqtt-connection-settings.ts';
export type {
  ConnectionEvent,
  IncomingMessage,
  MessageHandler,
  MqttClient,
  OutgoingMessage,
  PublishProperties,
  PublishResult,
  QoS,
  SubscribeResult,
  UserProperty,
} from './mqtt/mqtt-client.ts';
export { MqttSession } from './mqtt/mqtt-session.ts';
export type {
  MqttReconnectOptions,
  MqttSessionCloseOptions,
  MqttSessionOptions,
  MqttSessionState,
} from './mqtt/mqtt-session.ts';

// runtime
export { ConnectorSettings, connectorEnvironmentVariables } from './runtime/connector-settings.ts';
export type {
  ConnectorEnvironment,
  ConnectorSettingsOptions,
} from './runtime/connector-settings.ts';
export {
  AnonymousCredentials,
  CertificateCredentials,
  EndpointCredentialsReader,
  UsernamePasswordCredentials,
} from './runtime/endpoint-credentials.ts';
export type {
  CertificateInit,
  EndpointAuthenticationInput,
  EndpointAuthenticationMethod,
  EndpointCredentials,
  EndpointCredentialsReaderOptions,
  EndpointCredentialsRequest,
  EndpointTrustSettingsInput,
  TrustListInit,
  UsernamePasswordInit,
} from './runtime/endpoint-credentials.ts';
export { defaultMountReadAttempts, defaultMountReadIntervalInMs } from './runtime/mount-files.ts';
export type { MountReadOptions } from './runtime/mount-files.ts';
export { parseBrokerHost, parseMqttConnectionConfiguration } from './runtime/mqtt-configuration.ts';
export type {
  AioMetadata,
  ConnectorDiagnostics,
  MqttConnectionConfiguration,
} from './runtime/mqtt-configuration.ts';
export {
  defaultReadinessFile,
  markNotReady,
  markReady,
  readinessFileEnvironmentVariable,
  readinessFilePath,
  readinessProbeArgument,
  readinessProbeMain,
  runReadinessProbe,
} from './runtime/readiness.ts';
export type {
  MarkReadinessOptions,
  ReadinessOptions,
  ReadinessProbeOptions,
} from './runtime/readiness.ts';

// http
export {
  HttpEndpointClient,
  defaultHttpEndpointClientOptions,
} from './http/http-endpoint-client.ts';
export type {
  HttpConditional,
  HttpEndpointClientOptions,
  HttpRequestOptions,
  HttpResponse,
  HttpStream,
  HttpStreamOptions,
} from './http/http-endpoint-client.ts';
export { HttpError, classifyHttpStatus, isHttpError, parseRetryAfter } from './http/http-error.ts';
export type {
  HttpErrorCode,
  HttpErrorOptions,
  HttpStatusClassification,
  HttpStatusKind,
} from './http/http-error.ts';
export { parseContentType } from './http/http-headers.ts';
export type { ParsedContentType } from './http/http-headers.ts';
export { displayUrl, parseHttpAddress, resolveHttpDataSource } from './http/http-url.ts';
export type { HttpLocationOptions } from './http/http-url.ts';

// protocol
export {
  HybridLogicalClock,
  compareHlc,
  defaultMaxClockDriftInMs,
  encodeHlc,
  parseHlc,
  sharedHybridLogicalClock,
} from './protocol/hlc.ts';
export type { HlcTimestamp, HybridLogicalClockOptions } from './protocol/hlc.ts';
export {
  getUserProperty,
  isSupportedProtocolVersion,
  parseProtocolVersion,
  protocolVersion,
  reservedProperties,
  supportedMajorProtocolVersions,
  userDataOf,
} from './protocol/user-properties.ts';
export type { ProtocolVersion } from './protocol/user-properties.ts';
export {
  TopicPattern,
  isValidTopic,
  isValidTopicNamespace,
  isValidTopicPattern,
} from './protocol/topic-pattern.ts';
export type { TopicPatternOptions, TopicTokens } from './protocol/topic-pattern.ts';
export {
  createJsonSerializer,
  rawSerializer,
  unsupportedContentType,
} from './protocol/serializers.ts';
export type {
  JsonSerializerOptions,
  PayloadSerializer,
  SerializedPayload,
} from './protocol/serializers.ts';
export {
  cloudEventAttributeNames,
  cloudEventToUserProperties,
  formatCloudEventTime,
  isCloudEventContentType,
  isRfc3339,
  isUriReference,
  parseCloudEvent,
} from './protocol/cloud-event.ts';
export type { CloudEvent, CloudEventContext, CloudEventInit } from './protocol/cloud-event.ts';
export {
  commandStatus,
  formatIsoDuration,
  parseIsoDuration,
  parseMajorVersions,
  remoteCommandError,
} from './protocol/command-status.ts';
export type { CommandStatus } from './protocol/command-status.ts';
export { TelemetrySender } from './protocol/telemetry-sender.ts';
export type { TelemetrySendOptions, TelemetrySenderOptions } from './protocol/telemetry-sender.ts';
export { TelemetryReceiver } from './protocol/telemetry-receiver.ts';
export type {
  TelemetryHandler,
  TelemetryMessage,
  TelemetryReceiverOptions,
} from './protocol/telemetry-receiver.ts';
export { CommandInvoker } from './protocol/command-invoker.ts';
export type {
  CommandInvokerOptions,
  CommandResponse,
  InvokeOptions,
} from './protocol/command-invoker.ts';
export { CommandExecutor } from './protocol/command-executor.ts';
export type {
  CommandExecutorOptions,
  CommandHandler,
  CommandRequest,
  CommandResponseInit,
} from './protocol/command-executor.ts';

// services: state store
export {
  decodeResp3,
  encodeDelRequest,
  encodeDeleteNotification,
  encodeGetRequest,
  encodeKeyNotifyRequest,
  encodeResp3,
  encodeSetNotification,
  encodeSetRequest,
  encodeVdelRequest,
  parseDelResponse,
  parseGetResponse,
  parseKeyNotifyResponse,
  parseNotification,
  parseRequest,
  parseSetResponse,
  parseVdelResponse,
} from './services/state-store/resp3.ts';
export type {
  Resp3DecodeOptions,
  Resp3DecodeStats,
  Resp3Value,
  StateStoreBytes,
  StateStoreKeyNotifyRequestOptions,
  StateStoreNotificationPayload,
  StateStoreRequestPayload,
  StateStoreSetCondition,
  StateStoreSetRequestOptions,
  StateStoreSetResult,
  StateStoreVdelResult,
} from './services/state-store/resp3.ts';
export {
  StateStoreServiceError,
  stateStoreServiceErrorKindOf,
  stateStoreServiceErrorMessages,
} from './services/state-store/state-store-errors.ts';
export type { StateStoreServiceErrorKind } from './services/state-store/state-store-errors.ts';
export {
  StateStoreClient,
  stateStoreNotificationTopic,
  stateStoreTopics,
} from './services/state-store/state-store-client.ts';
export type {
  StateStoreClientOptions,
  StateStoreDeleteOptions,
  StateStoreGetResponse,
  StateStoreKeyNotification,
  StateStoreNotificationListener,
  StateStoreRequestOptions,
  StateStoreSetOptions,
  StateStoreSetResponse,
} from './services/state-store/state-store-client.ts';

// services: leader election
export { LeasedLock, defaultLeaseRetryOptions } from './services/leader-election/leased-lock.ts';
export type {
  LeaseAcquireOptions,
  LeaseAcquireResult,
  LeaseStore,
  LeasedLockChange,
  LeasedLockListener,
  LeasedLockOptions,
} from './services/leader-election/leased-lock.ts';
export { LeaderElectionClient } from './services/leader-election/leader-election-client.ts';
export type {
  LeaderElectionClientOptions,
  LeadershipChange,
  LeadershipChangeListener,
} from './services/leader-election/leader-election-client.ts';

// services: schema registry
export {
  SchemaRegistryClient,
  SchemaRegistryError,
  schemaRegistryErrorCodes,
  schemaRegistryFormats,
  schemaRegistryTarget,
  schemaRegistryTopics,
} from './services/schema-registry/schema-registry-client.ts';
export type {
  RegisteredSchemaReference,
  Schema,
  SchemaGetRequest,
  SchemaPutRequest,
  SchemaRegistration,
  SchemaRegistrationTarget,
  SchemaRegistryClientOptions,
  SchemaRegistryErrorDetails,
  SchemaRegistryErrorInit,
  SchemaRegistryFormat,
  SchemaRegistryRequestOptions,
  SchemaRegistrySchemaType,
} from './services/schema-registry/schema-registry-client.ts';

// services: adr
export {
  akriServiceErrorCodes,
  authenticationMethods,
  datasetTargets,
  eventStreamTargets,
  healthStatuses,
  managementActionTypes,
  notificationPreferences,
  destinationQosValues,
  destinationRetainValues,
} from './services/adr/models.ts';
export type {
  AdrConfigError,
  AdrConfigErrorDetail,
  AkriServiceError,
  AkriServiceErrorCode,
  Asset,
  AssetDataPoint,
  AssetDataset,
  AssetDeviceRef,
  AssetEvent,
  AssetEventGroup,
  AssetManagementAction,
  AssetManagementGroup,
  AssetStatus,
  AssetStream,
  InboundEndpointAuthentication,
  AuthenticationMethod,
  ConfigStatus,
  DatasetDestination,
  DatasetEventStreamStatus,
  DatasetTarget,
  DestinationConfiguration,
  Device,
  DeviceEndpointStatus,
  DeviceEndpoints,
  DeviceStatus,
  EventGroupStatus,
  EventStreamDestination,
  EventStreamTarget,
  HealthStatus,
  InboundEndpoint,
  ManagementActionStatus,
  ManagementActionType,
  ManagementGroupStatus,
  MessageSchemaReference,
  NotificationPreference,
  OutboundEndpoint,
  OutboundEndpoints,
  DestinationQos,
  DestinationRetain,
  RuntimeHealth,
  InboundEndpointTrustSettings,
  UsernamePasswordSecretNames,
  X509SecretNames,
} from './services/adr/models.ts';
export {
  configurationOf,
  parseAsset,
  parseAssetStatus,
  parseDevice,
  parseDeviceStatus,
  parseRuntimeHealth,
  validateAsset,
  validateDevice,
} from './services/adr/validate.ts';
export type {
  AdrIssueScope,
  AdrValidationIssue,
  AssetConfigurationField,
  AssetValidation,
  AssetValidationOptions,
  ConfigurableElement,
  ConfigurationOfOptions,
  DeviceValidation,
  DeviceValidationOptions,
  UnknownFieldPolicy,
} from './services/adr/validate.ts';
export {
  destinationTokenNames,
  resolveDestinationKey,
  resolveDestinationTopic,
} from './services/adr/destinations.ts';
export type {
  DestinationTokenName,
  DestinationTokens,
  ResolveDestinationOptions,
} from './services/adr/destinations.ts';
export {
  clearEventGroupStatus,
  compareHealth,
  pruneAssetStatus,
  setConfigStatus,
  setDatasetStatus,
  setDeviceEndpointStatus,
  setEventStatus,
  setManagementActionStatus,
  setStreamStatus,
  statusEquals,
  toAdrConfigError,
} from './services/adr/status.ts';
export type {
  ConfigStatusUpdate,
  DeviceEndpointStatusUpdate,
  HealthDecision,
  ManagementActionStatusUpdate,
  OperationStatusUpdate,
} from './services/adr/status.ts';
export { AdrMountMonitor } from './services/adr/mount-monitor.ts';
export type {
  AdrMountEntry,
  AdrMountEvent,
  AdrMountMonitorOptions,
} from './services/adr/mount-monitor.ts';
export { AdrClient, adrActionNames } from './services/adr/adr-client.ts';
export type {
  AdrActionName,
  AdrCallOptions,
  AdrClientOptions,
  AssetUpdateEvent,
  DeviceUpdateEvent,
  StatusUpdateOptions,
} from './services/adr/adr-client.ts';
export {
  AdrServiceError,
  isAdrServiceError,
  isAkriServiceErrorCode,
} from './services/adr/adr-service-error.ts';
export type { AdrServiceErrorInit } from './services/adr/adr-service-error.ts';
export { HealthReporter, healthEventNames } from './services/adr/health-reporter.ts';
export type {
  AssetHealthComponent,
  HealthEventName,
  HealthReporterOptions,
  RuntimeHealthReport,
} from './services/adr/health-reporter.ts';
export type {
  DiscoveredAsset,
  DiscoveredAssetDataPoint,
  DiscoveredAssetDataset,
  DiscoveredAssetEvent,
  DiscoveredAssetEventGroup,
  DiscoveredAssetManagementAction,
  DiscoveredAssetManagementGroup,
  DiscoveredAssetStream,
  DiscoveredDevice,
  DiscoveredDeviceEndpoints,
  DiscoveredDeviceInboundEndpoint,
  DiscoveryResult,
} from './services/adr/discovery-models.ts';

// connector
export { ConnectorBase, exitCodes } from './connector/connector-base.ts';
export type {
  AssetRunner,
  AssetRunnerTools,
  CloudEventMode,
  ConnectorOptions,
  ConnectorState,
  LeaderElectionOptions,
} from './connector/connector-base.ts';
export { PollingTelemetryConnector, sample } from './connector/polling-telemetry-connector.ts';
export type {
  DatasetSampler,
  Sample,
  SampleResult,
} from './connector/polling-telemetry-connector.ts';
export { EventDrivenTelemetryConnector } from './connector/event-driven-telemetry-connector.ts';
export type {
  AssetContext,
  DatasetContext,
  EndpointContext,
  EventContext,
  ForwardData,
  ForwardOptions,
  HealthReport,
  StreamContext,
} from './connector/contexts.ts';
export {
  parseDurationInMs,
  samplingIntervalKeys,
  samplingIntervalOf,
} from './connector/configuration.ts';
export { resolveDestinations } from './connector/destinations.ts';
export type { DestinationDefaults } from './connector/destinations.ts';
export { Forwarder, publishPacketSize } from './connector/forwarder.ts';
export type {
  Delivery,
  ForwardRequest,
  ForwarderOptions,
  ResolvedDestination,
  StateStoreWriter,
} from './connector/forwarder.ts';
export { BoundedQueue, QueueDropError } from './connector/bounded-queue.ts';
export type { OverflowPolicy } from './connector/bounded-queue.ts';
export { SchemaManager } from './connector/schema-manager.ts';
export type {
  MessageSchema,
  SchemaDecision,
  SchemaFormat,
  SchemaManagerOptions,
  SchemaMismatchPolicy,
  SchemaRegistryTarget,
} from './connector/schema-manager.ts';
export { JsonSchemaInferrer, canonicalJson } from './connector/schema-inference.ts';
export {
  aioCloudEventProperties,
  cloudEventSource,
  cloudEventSubject,
  cloudEventType,
  schemaUri,
} from './connector/aio-cloud-event.ts';
export type { AioCloudEventInput, SchemaReference } from './connector/aio-cloud-event.ts';
export { runPeriodically } from './connector/periodic-timer.ts';
export type { PeriodicOptions, TickInfo } from './connector/periodic-timer.ts';
