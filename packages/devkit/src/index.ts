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
// sandbox: Akri mount
export { writeAkriMount } from './sandbox/akri-mount.ts';
export type {
  AkriMount,
  AkriMountBroker,
  AkriMountEndpoint,
  AkriMountOptions,
} from './sandbox/akri-mount.ts';
