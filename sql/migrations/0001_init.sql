-- 0001: the warehouse contract (tables). Columns agree with models/schemas.py;
-- tests/models/test_schemas.py holds the two together. Money is DOUBLE, compared to the cent.

-- grain: one row per line as delivered/computed
CREATE TABLE cost_line (
    billing_account_id VARCHAR,
    billing_account_name VARCHAR,
    sub_account_id VARCHAR,
    sub_account_name VARCHAR,
    provider VARCHAR,
    invoice_issuer VARCHAR,
    billing_currency VARCHAR,
    billing_period_start TIMESTAMP,
    billing_period_end TIMESTAMP,
    charge_period_start TIMESTAMP,
    charge_period_end TIMESTAMP,
    charge_category VARCHAR,
    charge_class VARCHAR,
    charge_frequency VARCHAR,
    charge_description VARCHAR,
    service_name VARCHAR,
    service_category VARCHAR,
    region_id VARCHAR,
    availability_zone VARCHAR,
    resource_id VARCHAR,
    resource_name VARCHAR,
    resource_type VARCHAR,
    sku_id VARCHAR,
    pricing_quantity DOUBLE,
    pricing_unit VARCHAR,
    consumed_quantity DOUBLE,
    consumed_unit VARCHAR,
    list_cost DOUBLE,
    billed_cost DOUBLE,
    effective_cost DOUBLE,
    contracted_cost DOUBLE,
    commitment_discount_id VARCHAR,
    commitment_discount_status VARCHAR,
    tags MAP(VARCHAR, VARCHAR),
    x_cluster VARCHAR,
    x_namespace VARCHAR,
    x_pod VARCHAR,
    x_split_parent_resource_id VARCHAR,
    x_line_item_type VARCHAR,
    x_source VARCHAR,
    x_source_file VARCHAR,
    x_ingest_run VARCHAR
);

-- grain: cluster, node, hour
CREATE TABLE k8s_node_hour (
    cluster VARCHAR,
    node VARCHAR,
    hour TIMESTAMP,
    provider_id VARCHAR,
    instance_type VARCHAR,
    region VARCHAR,
    zone VARCHAR,
    capacity_cpu DOUBLE,
    capacity_memory DOUBLE,
    capacity_gpu DOUBLE,
    allocatable_cpu DOUBLE,
    allocatable_memory DOUBLE,
    spot BOOLEAN,
    labels MAP(VARCHAR, VARCHAR),
    running_seconds DOUBLE,
    x_source VARCHAR
);

-- grain: cluster, namespace, pod_uid, hour
CREATE TABLE k8s_pod_hour (
    cluster VARCHAR,
    namespace VARCHAR,
    pod VARCHAR,
    pod_uid VARCHAR,
    hour TIMESTAMP,
    node VARCHAR,
    workload_kind VARCHAR,
    workload_name VARCHAR,
    running_seconds DOUBLE,
    cpu_request DOUBLE,
    cpu_usage DOUBLE,
    memory_request DOUBLE,
    memory_usage DOUBLE,
    gpu_request DOUBLE,
    network_bytes DOUBLE,
    labels MAP(VARCHAR, VARCHAR),
    workload_labels MAP(VARCHAR, VARCHAR),
    x_source VARCHAR
);

-- grain: cluster, namespace, valid_from
CREATE TABLE k8s_namespace (
    cluster VARCHAR,
    namespace VARCHAR,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    labels MAP(VARCHAR, VARCHAR),
    annotations MAP(VARCHAR, VARCHAR),
    x_source VARCHAR
);

-- grain: cluster, namespace, quota, resource, hour
CREATE TABLE k8s_quota_hour (
    cluster VARCHAR,
    namespace VARCHAR,
    quota VARCHAR,
    resource VARCHAR,
    hour TIMESTAMP,
    hard DOUBLE,
    used DOUBLE,
    x_source VARCHAR
);

-- grain: cluster, volume_name, hour
CREATE TABLE k8s_volume_hour (
    cluster VARCHAR,
    namespace VARCHAR,
    claim VARCHAR,
    hour TIMESTAMP,
    volume_name VARCHAR,
    volume_id VARCHAR,
    storage_class VARCHAR,
    size_bytes DOUBLE,
    mounting_pods VARCHAR[],
    running_seconds DOUBLE,
    x_source VARCHAR
);

-- grain: cluster, namespace, service, hour
CREATE TABLE k8s_lb_hour (
    cluster VARCHAR,
    namespace VARCHAR,
    service VARCHAR,
    hour TIMESTAMP,
    ingress VARCHAR,
    resource_id VARCHAR,
    labels MAP(VARCHAR, VARCHAR),
    running_seconds DOUBLE,
    x_source VARCHAR
);

-- grain: provider, region, instance_type, sku_id, resource, spot
CREATE TABLE price_catalog (
    provider VARCHAR,
    region VARCHAR,
    instance_type VARCHAR,
    sku_id VARCHAR,
    resource VARCHAR,
    unit VARCHAR,
    price DOUBLE,
    currency VARCHAR,
    spot BOOLEAN,
    effective_from TIMESTAMP,
    x_source VARCHAR
);

-- grain: one row per line as delivered/computed
CREATE TABLE allocation (
    day DATE,
    provider VARCHAR,
    billing_account_id VARCHAR,
    sub_account_id VARCHAR,
    cluster VARCHAR,
    namespace VARCHAR,
    workload_kind VARCHAR,
    workload_name VARCHAR,
    node VARCHAR,
    service_name VARCHAR,
    resource_id VARCHAR,
    cost_kind VARCHAR,
    team VARCHAR,
    owner_rule VARCHAR,
    unowned_reason VARCHAR,
    shared_from VARCHAR,
    price_source VARCHAR,
    billed_cost DOUBLE,
    effective_cost DOUBLE,
    list_cost DOUBLE,
    run_id VARCHAR
);

-- One row per ingest or allocation run: what was read, how much, and how it ended.
CREATE TABLE ingest_runs (
    run_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    window_start TIMESTAMP,
    window_end TIMESTAMP,
    files VARCHAR[],
    rows BIGINT,
    checksum VARCHAR,
    status VARCHAR NOT NULL,  -- running | ok | failed
    error VARCHAR,
    started_at TIMESTAMP NOT NULL,
    duration_s DOUBLE
);
