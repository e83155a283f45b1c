"""The README's generated sections: each sits between `<!-- NAME:start -->` and `<!-- NAME:end -->`."""

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def with_section(text: str, name: str, body: str) -> str:
    """`text` with the section `name` replaced by `body` (README)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def write_section(name: str, body: str, readme: Path = README) -> None:
    """Rewrite one generated section of the README in place (README)."""
    readme.write_text(with_section(readme.read_text(encoding="utf-8"), name, body), encoding="utf-8")
