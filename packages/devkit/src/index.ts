// The public API of @aio-connector/devkit: a curated list.

// resources: Device and Asset custom resources
export { loadResources } from './resources/load-resources.ts';
export type {
  LoadResourcesOptions,
  LoadedAsset,
  LoadedDevice,
  LoadedResources,
  ResourceLocation,
  ResourceProblem,
  ResourceWarning,
} from './resources/load-resources.ts';

// emulators: state store engine
export { StateStoreEngine } from './emulators/state-store-engine.ts';
export type {
  StateStoreEngineEntry,
  StateStoreEngineNotification,
  StateStoreEngineOptions,
  StateStoreEngineRequest,
  StateStoreEngineResponse,
} from './emulators/state-store-engine.ts';

// emulators: state store service
export { startStateStoreService } from './emulators/state-store-service.ts';
export type {
  StateStoreService,
  StateStoreServiceOptions,
} from './emulators/state-store-service.ts';

// emulators: schema registry service
export { schemaNameOf, startSchemaRegistryService } from './emulators/schema-registry-service.ts';
export type {
  SchemaRegistryService,
  SchemaRegistryServiceOptions,
  SchemaRegistryServiceRequest,
} from './emulators/schema-registry-service.ts';

// sample servers
export { ThermostatSimulator } from './sample-servers/thermostat-simulator.ts';
export type {
  ThermostatPower,
  ThermostatReading,
  ThermostatSimulatorOptions,
  ThermostatStatus,
} from './sample-servers/thermostat-simulator.ts';
export type {
  SamplePem,
  SampleServerAuth,
  SampleServerCommonOptions,
  SampleServerRequest,
  SampleServerTls,
} from './sample-servers/sample-http.ts';
export { startThermostatServer } from './sample-servers/thermostat-server.ts';
export type {
  SampleHttpFault,
  SampleHttpFaults,
  ThermostatServer,
  ThermostatServerOptions,
} from './sample-servers/thermostat-server.ts';
export { startThermostatEventServer } from './sample-servers/thermostat-event-server.ts';
export type {
  SampleDropMode,
  SampleStreamEvent,
  SampleStreamEventInput,
  SampleStreamFault,
  SampleStreamFaults,
  ThermostatEventServer,
  ThermostatEventServerOptions,
} from './sample-servers/thermostat-event-server.ts';

// sandbox: Akri mount
export { writeAkriMount } from './sandbox/akri-mount.ts';
export type {
  AkriMount,
  AkriMountBroker,
  AkriMountEndpoint,
  AkriMountOptions,
} from './sandbox/akri-mount.ts';

// validate: connector metadata
export {
  connectorMetadataSchemaUrl,
  formatMetadataProblem,
  validateConnectorMetadata,
  validateConnectorMetadataFile,
} from './validate/validate-connector-metadata.ts';
export type {
  ConnectorMetadataFileValidation,
  ConnectorMetadataValidation,
  MetadataProblem,
  MetadataProblemRule,
  ValidateConnectorMetadataFileOptions,
  ValidateConnectorMetadataOptions,
} from './validate/validate-connector-metadata.ts';

// emulators: adr service
export {
  AdrServiceEmulator,
  adrServiceActions,
  adrServiceHealthEvents,
  startAdrService,
} from './emulators/adr-service.ts';
export type {
  AdrDefinitions,
  AdrServiceAction,
  AdrServiceErrorCode,
  AdrServiceFailure,
  AdrServiceHealthEvent,
  AdrServiceOptions,
  AdrServiceRequest,
  DiscoveredAssetRecord,
  DiscoveredDeviceRecord,
  RecordedHealthEntry,
  RecordedHealthEvent,
  SentNotification,
} from './emulators/adr-service.ts';

// sandbox: the local environment of `aio-connector dev`
export { Sandbox } from './sandbox/sandbox.ts';
export type {
  SandboxBrokerOptions,
  SandboxConnector,
  SandboxConnectorInfo,
  SandboxEvent,
  SandboxOptions,
  SandboxSampleServer,
  SandboxSampleServerInfo,
  SandboxState,
} from './sandbox/sandbox.ts';
export type {
  DefinitionChanges,
  EndpointAssignment,
  SandboxDefinitions,
} from './sandbox/sandbox-resources.ts';
export { SandboxMonitor } from './sandbox/sandbox-monitor.ts';
export type { MonitoredElement, SandboxMonitorOptions } from './sandbox/sandbox-monitor.ts';
export {
  loadSandboxConfig,
  parseConnectorArgument,
  splitCommandLine,
} from './sandbox/sandbox-config.ts';
export type { SandboxConfig } from './sandbox/sandbox-config.ts';
export { ConnectorProcess } from './sandbox/connector-process.ts';
export type {
  ConnectorProcessEvent,
  ConnectorProcessOptions,
  ConnectorProcessState,
  ConnectorRestartOptions,
} from './sandbox/connector-process.ts';
export { startEmbeddedBroker } from './sandbox/embedded-broker.ts';
export type { EmbeddedBroker, EmbeddedBrokerOptions } from './sandbox/embedded-broker.ts';
