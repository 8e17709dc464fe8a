"""No default credentials: `finops serve` refuses to run with no way to authenticate, the
demo's tokens never work outside the demo, and `--no-auth` is for loopback only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from finops.cli.serve import is_loopback, require_auth
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, hash_token, parse_config
from models.errors import ConfigError
from tests.support import ServeProcess, free_port, run_finops

USER_TOKEN = "user-platform-7c1e"  # the operator's own token, in their own finops.yaml
DEMO_TOKENS = ["demo-platform", "demo-finance", "demo-team-payments"]
ONE_TOKEN = parse_config({"api_tokens": [{"name": "ops", "sha256": hash_token("t"),
                                          "role": "platform"}]})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory outside the checkout with a fresh, published warehouse at the
    default place (./data/finops.duckdb) and no finops.yaml."""
    with Warehouse(tmp_path / "data" / "finops.duckdb") as warehouse:
        warehouse.publish()
    return tmp_path


def sql(base: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{base}/api/sql", json={"sql": "select 42 as answer"}, headers=headers,
                      timeout=30)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
    ("finops.internal", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serving_needs_a_way_to_authenticate() -> None:
    with pytest.raises(ConfigError, match="no way to authenticate"):
        require_auth(FinOpsConfig(), "127.0.0.1", no_auth=False)
    require_auth(ONE_TOKEN, "0.0.0.0", no_auth=False)
    require_auth(FinOpsConfig(), "127.0.0.1", no_auth=True)
    with pytest.raises(ConfigError, match="loopback address only"):
        require_auth(ONE_TOKEN, "0.0.0.0", no_auth=True)


@pytest.mark.integration
def test_no_config_elsewhere_refuses_to_serve(workdir: Path) -> None:
    done = run_finops(["serve", "--host", "127.0.0.1", "--port", str(free_port())],
                      cwd=workdir)
    assert done.returncode == 1
    assert "Config: none, zero-config defaults" in done.stderr
    assert "Error: refusing to serve with no way to authenticate" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_the_demo_tokens_never_work_with_a_user_config(workdir: Path) -> None:
    (workdir / "finops.yaml").write_text(yaml.safe_dump({"api_tokens": [
        {"name": "ops", "sha256": hash_token(USER_TOKEN), "role": "platform"}]}))
    with ServeProcess({}, workdir / "serve.log", cwd=workdir) as server:
        for token in DEMO_TOKENS:
            assert sql(server.base, token).status_code == 401, token
        assert httpx.get(f"{server.base}/api/teams", timeout=30,
                         headers={"Authorization": "Bearer demo-finance"}).status_code == 401
        answer = sql(server.base, USER_TOKEN)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [[42]]
    assert f"Config: {workdir / 'finops.yaml'} (found in the working directory)" \
           in (workdir / "serve.log").read_text()


@pytest.mark.integration
def test_no_auth_on_loopback_serves_everything_as_local_platform(workdir: Path) -> None:
    with ServeProcess({}, workdir / "serve.log", args=["--no-auth"], cwd=workdir) as server:
        answer = sql(server.base, None)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [[42]]
        unowned = httpx.get(f"{server.base}/api/unowned", timeout=30)
        assert unowned.status_code == 200, unowned.text  # organisation-wide: platform sees it
    log = (workdir / "serve.log").read_text()
    assert "WARNING: --no-auth: authentication is OFF" in log


@pytest.mark.integration
def test_no_auth_on_every_interface_is_refused(workdir: Path) -> None:
    done = run_finops(["serve", "--no-auth", "--host", "0.0.0.0", "--port", str(free_port())],
                      cwd=workdir)
    assert done.returncode == 1
    assert "Error: --no-auth makes every request the platform role, so it serves on a " \
           "loopback address only" in done.stderr
    assert "'0.0.0.0'" in done.stderr


@pytest.mark.integration
def test_a_missing_named_config_is_an_error_naming_it(workdir: Path) -> None:
    (workdir / "finops.yaml").write_text(yaml.safe_dump({"api_tokens": [
        {"name": "ops", "sha256": hash_token(USER_TOKEN), "role": "platform"}]}))
    done = run_finops(["serve", "--port", str(free_port())], cwd=workdir,
                      env={"FINOPS_CONFIG": "conf/finops.yml"})  # a typo: .yml
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: --config / FINOPS_CONFIG: config file not found: "
                                   f"{workdir / 'conf' / 'finops.yml'}")
