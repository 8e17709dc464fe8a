/*
 * The client against a running `finops serve` on the demo organisation (October 2026).
 * The Python suite (tests/integrations/test_backstage_client.py) starts the server and runs
 * `npm test` with FINOPS_URL, FINOPS_PLATFORM_TOKEN and FINOPS_TEAM_TOKEN (payments) set.
 * Figures are cross-checked against finops's own REST API, not hard-coded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FinopsApiError, FinopsCostInsightsClient } from '../src';

const baseUrl = required('FINOPS_URL');
const platform = new FinopsCostInsightsClient({ baseUrl, token: required('FINOPS_PLATFORM_TOKEN') });
const team = new FinopsCostInsightsClient({ baseUrl, token: () => required('FINOPS_TEAM_TOKEN') });
const INTERVALS = 'R2/P15D/2026-11-01'; // 2026-10-02..16 against 2026-10-17..31

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through the Python test suite`);
  return value;
}

async function finops<T>(path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${required('FINOPS_PLATFORM_TOKEN')}` },
  });
  assert.equal(response.status, 200, path);
  return (await response.json()) as T;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('FinopsCostInsightsClient', () => {
  it('knows the last complete billing date', async () => {
    assert.equal(await platform.getLastCompleteBillingDate(), '2026-10-31');
  });

  it('maps catalog users to finops teams', async () => {
    const alice = await platform.getUserGroups('user:default/alice');
    assert.deepEqual(alice.map(g => g.id), ['payments', '__unallocated__']);
    const carol = await team.getUserGroups('carol'); // checkout and ml: not payments' to see
    assert.deepEqual(carol, []);
  });

  it("lists a group's projects", async () => {
    const ids = (await platform.getGroupProjects('payments')).map(p => p.id);
    assert.ok(ids.includes('k8s:prod-eks/payments-api'), ids.join(','));
    assert.ok(ids.every(id => id.startsWith('k8s:') || id.startsWith('cloud:')));
  });

  it("gives a group's daily cost with its change, matching finops's team totals", async () => {
    const cost = await platform.getGroupDailyCost('payments', INTERVALS);
    assert.equal(cost.id, 'payments');
    assert.equal(cost.aggregation.length, 30);
    assert.equal(cost.aggregation[0].date, '2026-10-02');
    assert.equal(cost.aggregation[29].date, '2026-10-31');
    const current = sum(cost.aggregation.slice(15).map(a => a.amount));
    const previous = sum(cost.aggregation.slice(0, 15).map(a => a.amount));
    const detail = await finops<{ total_effective_cost: number }>(
      '/api/teams/payments?start=2026-10-17&end=2026-10-31');
    assert.ok(Math.abs(current - detail.total_effective_cost) < 0.08, `${current}`);
    assert.ok(Math.abs(cost.change!.amount - (current - previous)) < 0.01);
    assert.ok(Math.abs(cost.change!.ratio! - (current - previous) / previous) < 1e-3);
    const projects = cost.groupedCosts!.project;
    const byDay = sum(projects.flatMap(p => p.aggregation.map(a => a.amount)));
    assert.ok(Math.abs(byDay - (current + previous)) < 0.5);
    assert.ok(typeof cost.trendline!.slope === 'number');
  });

  it("gives a project's and a catalog entity's daily cost", async () => {
    const project = await platform.getProjectDailyCost('k8s:prod-eks/payments-api', INTERVALS);
    const entity = await platform.getCatalogEntityDailyCost('component:default/payments-api',
                                                            INTERVALS);
    assert.equal(entity.id, 'component:default/payments-api');
    assert.ok(sum(entity.aggregation.map(a => a.amount)) > 0);
    // the entity is the `api` workload of the namespace: part of the project's cost
    assert.ok(sum(entity.aggregation.map(a => a.amount))
              <= sum(project.aggregation.map(a => a.amount)));
  });

  it('breaks a product down by project for the two periods', async () => {
    const entity = await platform.getProductInsights({
      product: 'kubernetes', group: 'payments', intervals: INTERVALS, project: null });
    assert.equal(entity.id, 'kubernetes');
    const children = entity.entities.project;
    assert.ok(children.length >= 3);
    assert.ok(Math.abs(sum(children.map(c => c.aggregation[1])) - entity.aggregation[1]) < 0.05);
    const products = await platform.getProducts(INTERVALS);
    assert.ok(products.some(p => p.kind === 'kubernetes'));
  });

  it('turns budgets, governance and unlabeled spend into action items', async () => {
    const alerts = await team.getAlerts('payments');
    assert.equal(alerts[0].kind, 'budget'); // the demo's payments budget is overspent
    assert.match(alerts[0].title, /^Budget payments-monthly: /);
    assert.ok(alerts.some(a => a.kind === 'governance'));
    const [unlabeled] = await platform.getAlerts('__unallocated__');
    assert.equal(unlabeled.kind, 'unlabeled');
    assert.ok(unlabeled.data!.unlabeledCost > 0 && unlabeled.data!.projects.length > 0);
  });

  it('keeps a team token to its team', async () => {
    await assert.rejects(team.getGroupDailyCost('search', INTERVALS),
      (error: unknown) => error instanceof FinopsApiError && error.status === 403);
    await assert.rejects(team.getAlerts('__unallocated__'),
      (error: unknown) => error instanceof FinopsApiError && error.status === 403);
    const mine = await team.getGroupDailyCost('payments', INTERVALS);
    assert.equal(mine.aggregation.length, 30);
  });

  it('reports bad input as finops does, and invents no business metric', async () => {
    await assert.rejects(platform.getGroupDailyCost('payments', 'last month'),
      (error: unknown) => error instanceof FinopsApiError && error.status === 400
        && /intervals 'last month'/.test(error.message));
    const metric = await platform.getDailyMetricData('dau', INTERVALS);
    assert.deepEqual(metric.aggregation, []);
  });
});
