/*
 * The Cost Insights plugin's API, as the plugin declares it (`CostInsightsApi` in
 * @backstage-community/plugin-cost-insights, src/api/CostInsightsApi.ts), over the types of
 * @backstage/plugin-cost-insights-common. The plugin package itself (React, Material UI) is
 * not a dependency here: a Backstage app passes this client to the plugin's
 * `costInsightsApiRef`, and the shapes match structurally.
 */
import type {
  Cost,
  Entity,
  Group,
  Maybe,
  MetricData,
  Project,
} from '@backstage/plugin-cost-insights-common';

export type { Cost, Entity, Group, Maybe, MetricData, Project };

/** Options of `getProductInsights`, as the plugin passes them. */
export interface ProductInsightsOptions {
  product: string;
  group: string;
  intervals: string;
  project: Maybe<string>;
}

/** An unlabeled-spend project, as the plugin's UnlabeledDataflowAlert reads it. */
export interface UnlabeledProject {
  id: string;
  unlabeledCost: number;
  labeledCost: number;
}

/**
 * An action item. The plugin's `Alert` also allows React elements and snooze/accept/dismiss
 * forms; finops's alerts are plain data: a title, a subtitle and a link (to the finops
 * dashboard that explains it), so they satisfy the plugin's type as they are.
 */
export interface Alert {
  title: string;
  subtitle: string;
  url?: string;
  buttonText?: string;
  /** finops's kind: a crossed budget threshold, a governance finding, unlabeled spend. */
  kind: 'budget' | 'governance' | 'unlabeled';
  /** For `unlabeled`: what UnlabeledDataflowAlert shows (by project). */
  data?: {
    periodStart: string;
    periodEnd: string;
    projects: UnlabeledProject[];
    unlabeledCost: number;
    labeledCost: number;
  };
}

export interface CostInsightsApi {
  getLastCompleteBillingDate(): Promise<string>;
  getUserGroups(userId: string): Promise<Group[]>;
  getGroupProjects(group: string): Promise<Project[]>;
  getGroupDailyCost(group: string, intervals: string): Promise<Cost>;
  getProjectDailyCost(project: string, intervals: string): Promise<Cost>;
  getCatalogEntityDailyCost?(catalogEntityRef: string, intervals: string): Promise<Cost>;
  getDailyMetricData(metric: string, intervals: string): Promise<MetricData>;
  getProductInsights(options: ProductInsightsOptions): Promise<Entity>;
  getAlerts(group: string): Promise<Alert[]>;
}
