"""Suggested owners and fixes (``finops.reports.ownership_hints``): pure, frames and dicts in."""

from __future__ import annotations

from typing import Any

from finops.reports.ownership_hints import Clues, fix, in_places, resolve, suggest, team_spellings
from models.config import FinOpsConfig

CONFIG = FinOpsConfig.model_validate({
    "teams": [{"name": "payments", "aliases": ["Payments", "team-payments"]},
              {"name": "search"}, {"name": "ml-platform"}],
    "ownership": {"label_keys": ["team"], "tag_keys": ["team", "user:team"]},
})
TEAMS = team_spellings(CONFIG)


def item(**fields: Any) -> dict[str, Any]:
    base = {"reason": "no-team-label", "provider": "AWS", "sub_account_id": "111111111111",
            "cluster": "eks", "namespace": None, "service_name": None, "resource_id": None}
    return {**base, **fields}


def test_team_spellings_resolve_names_aliases_and_prefixes() -> None:
    assert resolve("Payments", TEAMS) == resolve("team-payments", TEAMS) == "payments"
    assert resolve("group:default/search", TEAMS) == "search"
    assert resolve("fraud", TEAMS) is None and resolve(None, TEAMS) is None


def test_near_miss_tag_key_names_the_owner() -> None:
    clues = Clues(teams=TEAMS, tag_keys=("team", "user:team"),
                  tags={"bucket-1": {"Team": "Payments", "env": "prod"}})
    hint = suggest(item(reason="untagged-resource", resource_id="bucket-1"), clues)
    assert hint is not None and hint.team == "payments"
    assert hint.evidence == ("tag `Team=Payments` (key not in the ownership keys team, "
                             "user:team)",)


def test_a_read_key_is_no_near_miss() -> None:
    clues = Clues(teams=TEAMS, tags={"bucket-1": {"team": "payments"}})
    assert suggest(item(resource_id="bucket-1"), clues) is None


def test_name_prefix_whole_words_only() -> None:
    clues = Clues(teams=TEAMS)
    hint = suggest(item(namespace="ml-platform-jobs"), clues)
    assert hint is not None and hint.team == "ml-platform"
    assert suggest(item(namespace="searchlight"), clues) is None  # not the word "search"


def test_backstage_user_in_the_namespace_name() -> None:
    clues = Clues(teams=TEAMS, catalog_users={"alice": ["group:default/payments"]})
    hint = suggest(item(namespace="sandbox-alice"), clues)
    assert hint is not None and hint.team == "payments"
    assert "Backstage: user `alice`" in hint.evidence[0]


def test_most_evidence_wins_and_all_of_it_is_kept() -> None:
    clues = Clues(teams=TEAMS, namespace_owners={("eks", "search-tmp"): ("search", 0.9)},
                  namespace_labels={("eks", "search-tmp"): {"owner": "payments"}})
    hint = suggest(item(namespace="search-tmp"), clues)
    assert hint is not None and hint.team == "search" and len(hint.evidence) == 2
    assert any("90% of the other spend" in e for e in hint.evidence)


def test_fix_names_the_label_or_mapping_to_add() -> None:
    text = fix(item(namespace="sandbox"), None, CONFIG)
    assert "kubectl label namespace sandbox team=<team>" in text
    assert "namespaces: [sandbox]" in text
    gcp = fix(item(reason="unmapped-account", provider="Google Cloud", sub_account_id="proj-1"),
              suggest(item(namespace="search-x"), Clues(teams=TEAMS)), CONFIG)
    assert "{team: search, gcp_projects: [proj-1]}" in gcp
    assert "tax_and_credits: follow-spend" in fix(item(reason="unattributed-tax-or-credit"),
                                                  None, CONFIG)


def test_places_of_a_team_lead() -> None:
    assert in_places(item(namespace="pay"), {("eks", "pay")}, [], set())
    assert not in_places(item(namespace="pay", cluster="gke"), {("eks", "pay")}, [], set())
    assert in_places(item(namespace="payments-x"), set(), ["payments-*"], set())
    assert in_places(item(), set(), [], {"111111111111"})  # outside namespaces: the account
    assert not in_places(item(), set(), [], {"222222222222"})
