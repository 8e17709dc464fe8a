/*
 * FinopsCostInsightsClient: the plugin's CostInsightsApi, answered by a finops server's
 * /api/backstage/... routes. Every call sends `Authorization: Bearer <token>` (a finops API
 * token: a team token limits Backstage to that team's costs, as everywhere in finops).
 */
import type {
  Alert,
  Cost,
  CostInsightsApi,
  Entity,
  Group,
  MetricData,
  ProductInsightsOptions,
  Project,
} from './api';

type Fetch = (input: string, init?: { headers?: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}>;

export interface FinopsClientOptions {
  /** The finops server, e.g. https://finops.example.com (no trailing /api). */
  baseUrl: string;
  /** A finops API token, or a function giving one per call (rotated secrets). */
  token: string | (() => string | Promise<string>);
  /** Backstage's fetchApi.fetch, or the global fetch (the default). */
  fetch?: Fetch;
}

/** A non-2xx answer, with finops's error body (`{ok: false, error, errors, status}`). */
export class FinopsApiError extends Error {
  constructor(readonly status: number, readonly path: string, message: string) {
    super(`finops ${path}: ${status} ${message}`);
    this.name = 'FinopsApiError';
  }
}

export class FinopsCostInsightsClient implements CostInsightsApi {
  private readonly baseUrl: string;
  private readonly fetchImpl: Fetch;

  constructor(private readonly options: FinopsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? (globalThis.fetch as unknown as Fetch);
  }

  async getLastCompleteBillingDate(): Promise<string> {
    const body = await this.get<{ date: string }>('/last-complete-billing-date', {});
    return body.date;
  }

  getUserGroups(userId: string): Promise<Group[]> {
    return this.get('/user-groups', { user: userId });
  }

  getGroupProjects(group: string): Promise<Project[]> {
    return this.get('/group-projects', { group });
  }

  getGroupDailyCost(group: string, intervals: string): Promise<Cost> {
    return this.get('/group-daily-cost', { group, intervals });
  }

  getProjectDailyCost(project: string, intervals: string): Promise<Cost> {
    return this.get('/project-daily-cost', { project, intervals });
  }

  getCatalogEntityDailyCost(catalogEntityRef: string, intervals: string): Promise<Cost> {
    return this.get('/entity-daily-cost', { entity: catalogEntityRef, intervals });
  }

  /** finops holds no business metrics (DAU, orders): an empty series, never invented. */
  async getDailyMetricData(metric: string, _intervals: string): Promise<MetricData> {
    return { id: metric, format: 'number', aggregation: [], change: { amount: 0 } };
  }

  getProductInsights(options: ProductInsightsOptions): Promise<Entity> {
    const query: Record<string, string> = {
      product: options.product,
      group: options.group,
      intervals: options.intervals,
    };
    if (options.project) query.project = options.project;
    return this.get('/product-insights', query);
  }

  getAlerts(group: string): Promise<Alert[]> {
    return this.get('/alerts', { group });
  }

  /** The products to list under `costInsights.products` in app-config. */
  getProducts(intervals: string): Promise<{ kind: string; name: string }[]> {
    return this.get('/products', { intervals });
  }

  private async get<T>(path: string, query: Record<string, string>): Promise<T> {
    const token = typeof this.options.token === 'function'
      ? await this.options.token()
      : this.options.token;
    const search = new URLSearchParams(query).toString();
    const url = `${this.baseUrl}/api/backstage${path}${search ? `?${search}` : ''}`;
    const response = await this.fetchImpl(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    });
    if (!response.ok) {
      throw new FinopsApiError(response.status, path, await errorText(response));
    }
    return (await response.json()) as T;
  }
}

async function errorText(response: { text(): Promise<string> }): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: string };
    return body.error ?? text;
  } catch {
    return text.slice(0, 200);
  }
}
