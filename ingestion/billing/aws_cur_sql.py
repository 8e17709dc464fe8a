"""The CUR -> ``cost_line`` mapping as one DuckDB SELECT (rules: ``ingestion.billing.aws_cur``).

Everything here builds SQL text; nothing reads data. DuckDB runs the SELECT itself over
``read_parquet``/``read_csv`` so a 10M-line month streams through the warehouse load
without a Python row loop. Column names are *canonical* CUR 2.0 snake_case; legacy names
are converted by ``canonical`` (``lineItem/UnblendedCost`` -> ``line_item_unblended_cost``,
``savingsPlan/SavingsPlanARN`` -> ``savings_plan_savings_plan_a_r_n``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from models.loads import sql_literal as quote

REQUIRED = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_unblended_cost",
    "line_item_currency_code",
)
TIMESTAMPS = (
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
)
NUMBERS = (
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "split_line_item_split_cost",
    "split_line_item_unused_cost",
)
TEXTS = (
    "bill_payer_account_id",
    "bill_payer_account_name",
    "bill_invoicing_entity",
    "bill_billing_entity",
    "bill_bill_type",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_line_item_type",
    "line_item_currency_code",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_availability_zone",
    "line_item_resource_id",
    "line_item_line_item_description",
    "product_product_name",
    "product_servicecode",
    "product_region_code",
    "product_product_family",
    "product_sku",
    "pricing_unit",
    "reservation_reservation_a_r_n",
    "savings_plan_savings_plan_a_r_n",
    "split_line_item_parent_resource_id",
)
# A line item type needs these columns for its effective cost (else the rule can't apply).
CONDITIONAL = {
    "DiscountedUsage": ("reservation_effective_cost",),
    "SavingsPlanCoveredUsage": ("savings_plan_savings_plan_effective_cost",),
    "SavingsPlanRecurringFee": (
        "savings_plan_total_commitment_to_date",
        "savings_plan_used_commitment",
    ),
    "RIFee": (
        "reservation_unused_amortized_upfront_fee_for_billing_period",
        "reservation_unused_recurring_fee",
    ),
}
SPLIT_OPERATIONS = ("EKSPod-EC2", "ECSTask-EC2")
SERVICE_CATEGORY = {
    "AmazonEC2": "Compute",
    "AmazonEKS": "Compute",
    "AmazonECS": "Compute",
    "AWSLambda": "Compute",
    "AWSELB": "Networking",
    "AWSDataTransfer": "Networking",
    "AmazonVPC": "Networking",
    "AmazonCloudFront": "Networking",
    "AmazonRoute53": "Networking",
    "AmazonS3": "Storage",
    "AmazonEFS": "Storage",
    "AWSBackup": "Storage",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AWSGlue": "Analytics",
    "AmazonAthena": "Analytics",
    "AmazonKinesis": "Analytics",
    "AmazonCloudWatch": "Management and Governance",
    "AWSCloudTrail": "Management and Governance",
    "AWSConfig": "Management and Governance",
    "awskms": "Security",
    "AWSSecretsManager": "Security",
    "AmazonSNS": "Integration",
    "AWSQueueService": "Integration",
    "AmazonStates": "Integration",
    "AWSIoT": "Internet of Things",
}


def canonical(column: str) -> str:
    """CUR 2.0 snake_case name of a legacy (``category/Name``) or snake_case column."""
    if "/" not in column:
        return column.lower()
    category, _, name = column.partition("/")
    return f"{_snake(category)}_{_snake(name)}"


def _snake(word: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", word).lower()


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Source:
    """What one delivery's files look like: relation SQL, columns (canonical -> source)."""

    relation: str  # read_parquet(...) / read_csv(...)
    columns: dict[str, str]  # canonical name -> source column name
    types: dict[str, str]  # source column name -> DuckDB type
    files: dict[str, str] = field(default_factory=dict)  # local path -> source URI

    @property
    def has_split(self) -> bool:
        return "split_line_item_parent_resource_id" in self.columns


def _typed(source: Source, name: str, kind: str) -> str:
    col = source.columns.get(name)
    if col is None:
        return _from_product_map(source, name, kind)
    ref, dtype = ident(col), source.types[col].upper()
    if kind == "VARCHAR":
        return f"nullif(CAST({ref} AS VARCHAR), '')"
    if dtype == "VARCHAR":
        return f"CAST(nullif(trim({ref}), '') AS {kind})"
    if kind == "TIMESTAMP" and "WITH TIME ZONE" in dtype:
        return f"timezone('UTC', {ref})"
    return f"CAST({ref} AS {kind})"


def _from_product_map(source: Source, name: str, kind: str) -> str:
    """CUR 2.0 keeps most product attributes in the ``product`` map only."""
    if name.startswith("product_") and "product" in source.types and kind == "VARCHAR":
        return f"nullif(CAST(product[{quote(name.removeprefix('product_'))}] AS VARCHAR), '')"
    return f"CAST(NULL AS {kind})"


def tags_expr(source: Source) -> str:
    """Tags as ``MAP(VARCHAR, VARCHAR)``.

    Keys are kept as delivered: the CUR 2.0 ``resource_tags`` map passes through unchanged,
    legacy CSV ``resourceTags/user:team`` -> ``user:team``, legacy Parquet
    ``resource_tags_user_team`` -> ``user_team``. Empty legacy values (tag absent) are dropped.
    """
    if "resource_tags" in source.types:
        return "CAST(resource_tags AS MAP(VARCHAR, VARCHAR))"
    keys = {col: key for col in source.types if (key := _tag_key(col))}
    pairs = [
        f"{{'key': {quote(key)}, 'value': CAST({ident(col)} AS VARCHAR)}}"
        for col, key in keys.items()
    ]
    if not pairs:
        return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    entries = f"[{', '.join(pairs)}]"
    return f"map_from_entries(list_filter({entries}, e -> e.value IS NOT NULL AND e.value <> ''))"


def _tag_key(column: str) -> str | None:
    for prefix in ("resourceTags/", "resource_tags_"):
        if column.startswith(prefix) and len(column) > len(prefix):
            return column[len(prefix) :]
    return None


def _projection(source: Source) -> str:
    parts = [f"{_typed(source, c, 'VARCHAR')} AS {c}" for c in TEXTS]
    parts += [f"{_typed(source, c, 'DOUBLE')} AS {c}" for c in NUMBERS]
    parts += [f"{_typed(source, c, 'TIMESTAMP')} AS {c}" for c in TIMESTAMPS]
    parts.append(f"{tags_expr(source)} AS _tags")
    parts.append("filename AS _file")
    return f"SELECT {', '.join(parts)} FROM {source.relation}"


EFFECTIVE = """CASE line_item_line_item_type
    WHEN 'DiscountedUsage' THEN coalesce(reservation_effective_cost, 0)
    WHEN 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_savings_plan_effective_cost, 0)
    WHEN 'SavingsPlanNegation' THEN 0
    WHEN 'SavingsPlanUpfrontFee' THEN 0
    WHEN 'SavingsPlanRecurringFee' THEN 0
    WHEN 'RIFee' THEN 0
    WHEN 'Fee' THEN CASE WHEN reservation_reservation_a_r_n IS NOT NULL THEN 0
                         ELSE coalesce(line_item_unblended_cost, 0) END
    ELSE coalesce(line_item_unblended_cost, 0) END"""
UNUSED = """CASE line_item_line_item_type
    WHEN 'SavingsPlanRecurringFee' THEN coalesce(savings_plan_total_commitment_to_date, 0)
                                      - coalesce(savings_plan_used_commitment, 0)
    WHEN 'RIFee' THEN coalesce(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
                    + coalesce(reservation_unused_recurring_fee, 0)
    ELSE 0 END"""
CATEGORY = """CASE WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage',
        'SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'BundledDiscount', 'EdpDiscount',
        'PrivateRateDiscount', 'Discount', 'SppDiscount', 'DistributorDiscount') THEN 'Usage'
    WHEN line_item_line_item_type IN ('Fee', 'RIFee', 'SavingsPlanUpfrontFee',
        'SavingsPlanRecurringFee') THEN 'Purchase'
    WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
    WHEN line_item_line_item_type IN ('Credit', 'Refund') THEN 'Credit'
    ELSE 'Adjustment' END"""
FREQUENCY = """CASE WHEN line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee')
        THEN 'Recurring'
    WHEN line_item_line_item_type IN ('Fee', 'SavingsPlanUpfrontFee', 'Tax', 'Credit',
        'Refund') THEN 'One-Time'
    ELSE 'Usage-Based' END"""


def _base(source: Source) -> str:
    split_ops = ", ".join(quote(op) for op in SPLIT_OPERATIONS)
    pod = (
        f"(coalesce(line_item_operation, '') IN ({split_ops}) "
        "AND split_line_item_parent_resource_id IS NOT NULL)"
    )
    parent = (
        "(line_item_line_item_type IN ('Usage', 'DiscountedUsage', "
        "'SavingsPlanCoveredUsage') AND line_item_resource_id LIKE 'i-%' "
        "AND coalesce(line_item_operation, '') LIKE 'RunInstances%')"
    )
    return f"""SELECT *, coalesce(line_item_unblended_cost, 0) AS _bill,
        coalesce(pricing_public_on_demand_cost, 0) AS _list, {EFFECTIVE} AS _eff,
        {UNUSED} AS _unused, {pod} AS _pod, NOT {pod} AND {parent} AS _parent,
        coalesce(split_line_item_split_cost, 0) + coalesce(split_line_item_unused_cost, 0)
            AS _pod_eff
    FROM src"""


def _joined(source: Source) -> str:
    """Pod rows take their share r of the instance-hour; the instance keeps (1 - R)."""
    if not source.has_split:
        return (
            "SELECT *, 0.0 AS _r, 0.0 AS _rr, 0.0 AS _p_bill, 0.0 AS _p_eff, 0.0 AS _p_list FROM b"
        )
    return """SELECT b.*,
        CASE WHEN b._pod AND q._p_eff <> 0 THEN b._pod_eff / q._p_eff ELSE 0 END AS _r,
        CASE WHEN b._parent AND q._p_eff <> 0 THEN q._s_eff / q._p_eff ELSE 0 END AS _rr,
        coalesce(q._p_bill, 0) AS _p_bill, coalesce(q._p_eff, 0) AS _p_eff,
        coalesce(q._p_list, 0) AS _p_list
    FROM b LEFT JOIN ratio AS q
      ON q._rid = CASE WHEN b._pod THEN b.split_line_item_parent_resource_id
                       WHEN b._parent THEN b.line_item_resource_id END
     AND q._ts = b.line_item_usage_start_date"""


# One pass over the pod and instance rows (not one per side): per (instance, hour) the
# pods' effective cost and the instance rows' costs; only hours that have both.
RATIO = """ratio AS NOT MATERIALIZED (
    SELECT _rid, _ts, sum(_pod_eff) FILTER (WHERE _pod) AS _s_eff,
           sum(_eff) FILTER (WHERE _parent) AS _p_eff,
           sum(_bill) FILTER (WHERE _parent) AS _p_bill,
           sum(_list) FILTER (WHERE _parent) AS _p_list
    FROM (SELECT CASE WHEN _pod THEN split_line_item_parent_resource_id
                      ELSE line_item_resource_id END AS _rid,
                 line_item_usage_start_date AS _ts, _pod, _parent, _pod_eff, _eff, _bill, _list
          FROM b WHERE (_pod OR _parent) AND line_item_usage_start_date IS NOT NULL)
    GROUP BY _rid, _ts
    HAVING count(*) FILTER (WHERE _pod) > 0 AND count(*) FILTER (WHERE _parent) > 0),
"""


def _columns(source: Source, run_id: str, unused: bool) -> str:
    renamed = {p: u for p, u in source.files.items() if p != u}  # local files: read in place
    files = " ".join(f"WHEN {quote(p)} THEN {quote(u)}" for p, u in renamed.items())
    source_file = f"CASE _file {files} ELSE _file END" if renamed else "_file"
    arn = "coalesce(savings_plan_savings_plan_a_r_n, reservation_reservation_a_r_n)"
    eks = "_pod AND line_item_resource_id LIKE 'arn:aws:eks:%:pod/%'"
    if unused:
        money = (
            "0.0 AS list_cost, 0.0 AS billed_cost, _unused AS effective_cost, "
            "0.0 AS contracted_cost"
        )
        category, status, resource = "'Usage'", "'Unused'", arn
        quantity = "CAST(NULL AS DOUBLE)"
    else:
        keep = "CASE WHEN _pod THEN _r * {p} ELSE {own} * (1 - _rr) END"
        money = (
            f"{keep.format(p='_p_list', own='_list')} AS list_cost, "
            f"{keep.format(p='_p_bill', own='_bill')} AS billed_cost, "
            f"{keep.format(p='_p_eff', own='_eff')} AS effective_cost, "
            f"{keep.format(p='_p_bill', own='_bill')} AS contracted_cost"
        )
        category = CATEGORY
        status = (
            "CASE WHEN line_item_line_item_type IN ('DiscountedUsage', "
            "'SavingsPlanCoveredUsage') THEN 'Used' END"
        )
        resource = "line_item_resource_id"
        quantity = (
            "CASE WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage', "
            "'SavingsPlanCoveredUsage') THEN line_item_usage_amount END"
        )
    categories = " ".join(f"WHEN {quote(k)} THEN {quote(v)}" for k, v in SERVICE_CATEGORY.items())
    code = "coalesce(product_servicecode, line_item_product_code)"
    return f"""SELECT
    bill_payer_account_id AS billing_account_id,
    bill_payer_account_name AS billing_account_name,
    line_item_usage_account_id AS sub_account_id,
    line_item_usage_account_name AS sub_account_name,
    'AWS' AS provider,
    coalesce(bill_invoicing_entity, bill_billing_entity, 'AWS') AS invoice_issuer,
    line_item_currency_code AS billing_currency,
    bill_billing_period_start_date AS billing_period_start,
    bill_billing_period_end_date AS billing_period_end,
    line_item_usage_start_date AS charge_period_start,
    line_item_usage_end_date AS charge_period_end,
    {category} AS charge_category,
    CASE WHEN line_item_line_item_type = 'Refund' OR bill_bill_type = 'Refund'
         THEN 'Correction' END AS charge_class,
    {FREQUENCY} AS charge_frequency,
    line_item_line_item_description AS charge_description,
    coalesce(product_product_name, {code}) AS service_name,
    CASE {code} {categories} ELSE 'Other' END AS service_category,
    coalesce(product_region_code,
             nullif(regexp_extract(line_item_availability_zone, '^([a-z]+-[a-z-]+-[0-9]+)', 1),
                    '')) AS region_id,
    line_item_availability_zone AS availability_zone,
    {resource} AS resource_id,
    CAST(NULL AS VARCHAR) AS resource_name,
    CASE WHEN _pod THEN 'Kubernetes Pod' ELSE product_product_family END AS resource_type,
    product_sku AS sku_id,
    line_item_usage_amount AS pricing_quantity,
    pricing_unit AS pricing_unit,
    {quantity} AS consumed_quantity,
    CASE WHEN {quantity} IS NOT NULL THEN pricing_unit END AS consumed_unit,
    {money},
    {arn} AS commitment_discount_id,
    {status} AS commitment_discount_status,
    _tags AS tags,
    CASE WHEN {eks} THEN split_part(line_item_resource_id, '/', 2) END AS x_cluster,
    CASE WHEN {eks} THEN split_part(line_item_resource_id, '/', 3) END AS x_namespace,
    CASE WHEN {eks} THEN split_part(line_item_resource_id, '/', 4) END AS x_pod,
    CASE WHEN _pod THEN split_line_item_parent_resource_id END AS x_split_parent_resource_id,
    line_item_line_item_type AS x_line_item_type,
    'aws-cur' AS x_source,
    {source_file} AS x_source_file,
    {quote(run_id)} AS x_ingest_run"""


def select(source: Source, run_id: str) -> str:
    """The whole mapping: usage/fee rows, plus one 'Unused' row per commitment fee."""
    ratio = RATIO if source.has_split else ""
    return f"""WITH src AS NOT MATERIALIZED ({_projection(source)}),
b AS NOT MATERIALIZED ({_base(source)}),
{ratio}j AS NOT MATERIALIZED ({_joined(source)})
{_columns(source, run_id, unused=False)} FROM j
UNION ALL
{_columns(source, run_id, unused=True)} FROM b
WHERE line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') AND _unused <> 0"""


def partition_keys(source: Source) -> str:
    """The (x_source, billing_account_id, billing_period_start) tuples ``select`` yields,
    from the same expressions, reading only the two source columns they need."""
    account = _typed(source, "bill_payer_account_id", "VARCHAR")
    start = _typed(source, "bill_billing_period_start_date", "TIMESTAMP")
    return (f"SELECT DISTINCT 'aws-cur' AS x_source, {account} AS billing_account_id, "
            f"{start} AS billing_period_start FROM {source.relation}")
