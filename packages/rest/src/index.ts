// The public API of @aio-connector/rest: a curated list.

export { RestConnector, defaultRestConnectorOptions } from './rest-connector.ts';
export type { RestConnectorOptions, RestHttpOptions } from './rest-connector.ts';
export {
  planRestDataset,
  restConfigurationKeys,
  restEndpointSettings,
} from './rest-configuration.ts';
export type {
  RestDatasetInput,
  RestDatasetPlan,
  RestEndpointSettings,
  RestRequest,
  RestRequestMethod,
} from './rest-configuration.ts';
export { dataPointValue, decodeRestBody, isJsonMediaType } from './rest-response.ts';
export type { RestBody, RestNonJsonPolicy } from './rest-response.ts';
export { restConnectorOptionsFromConfiguration } from './rest-connector-configuration.ts';
