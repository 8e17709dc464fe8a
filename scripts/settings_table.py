"""Print the README's configuration table from the Settings class (one source of truth)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from finops.settings import Settings


def rows(model: type[BaseModel], prefix: str = "FINOPS_") -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += rows(annotation, f"{env}__")
        else:
            out.append((env, _default(field), field.description or ""))
    return out


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is None:
        return "(unset)"
    if isinstance(value, Path) and not value.is_absolute():
        return f"./{value}"  # resolved against the working directory at run time
    return str(value)


def table() -> str:
    lines = ["| environment variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{env}` | `{default}` | {meaning} |" for env, default, meaning in rows(Settings)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())  # noqa: T201
