"""Fixed identities of the synthetic organisation (accounts, projects, subscriptions)."""

from __future__ import annotations

AWS_PAYER = ("210987654321", "acme-payer")
AWS_PROD = ("345678901234", "acme-prod")
AWS_SANDBOX = ("456789012345", "acme-sandbox")  # untagged, mapped to nobody
AWS_REGION = "us-east-1"
CUR_BUCKET = "acme-billing-exports"
CUR_PREFIX = "cur2"
CUR_EXPORT = "acme-cur2-hourly"

GCP_BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"
GCP_GKE_PROJECT = ("acme-prod-gke", "482910573816")
GCP_DATA_PROJECT = ("acme-data-platform", "730215846129")  # mapped to a team in finops.yaml
GCP_REGION = "us-central1"

AZURE_BILLING_ACCOUNT = ("8611537", "Acme Corp EA")
AZURE_SUBSCRIPTION = ("3f2b8c1e-6a4d-4e0f-9b7a-2c5d8e1f4a6b", "acme-corp-it")
AZURE_REGION = "eastus"

EKS_CLUSTER = "prod-eks"
GKE_CLUSTER = "prod-gke"
