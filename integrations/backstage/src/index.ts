export type {
  Alert,
  Cost,
  CostInsightsApi,
  Entity,
  Group,
  MetricData,
  ProductInsightsOptions,
  Project,
  UnlabeledProject,
} from './api';
export { FinopsApiError, FinopsCostInsightsClient } from './client';
export type { FinopsClientOptions } from './client';
