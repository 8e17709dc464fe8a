"""Same seed, same bytes: regenerating the demo reproduces finops/demo/data exactly."""

from __future__ import annotations

from pathlib import Path

from finops.synthetic import generate, size


def test_regenerated_demo_is_byte_identical(demo: Path, tmp_path: Path) -> None:
    generate(size("S"), tmp_path, 7)
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(demo) for p in demo.rglob("*")
                       if p.is_file() and p.name not in ("README.md", "tokens.json"))
    assert produced == committed
    for rel in produced:
        assert (tmp_path / rel).read_bytes() == (demo / rel).read_bytes(), rel


def test_another_seed_gives_another_organisation(tmp_path: Path) -> None:
    from finops.synthetic.org import build_org

    a, b = build_org(size("S"), 7), build_org(size("S"), 8)
    assert [p.uid for p in a.pods] != [p.uid for p in b.pods]
    assert [p.uid for p in a.pods] == [p.uid for p in build_org(size("S"), 7).pods]
