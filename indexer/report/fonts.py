"""The report's Korean font, embedded: Noto Sans KR (SIL OFL 1.1) from the npm package
`@fontsource/noto-sans-kr`, installed by scripts/setup (web/'s npm project). Fontsource splits the
font into ~120 subsets by unicode range; only the subsets holding a character the report uses are
embedded, as data URIs."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from ledger.errors import ConfigurationError

FAMILY = "Noto Sans KR"
PACKAGE = Path("@fontsource") / "noto-sans-kr"
_ROOT = Path(__file__).resolve().parents[2]
_SEARCH = (_ROOT / "node_modules", _ROOT / "web" / "node_modules")
_FACE = re.compile(r"@font-face\s*{(?P<body>[^}]*)}", re.S)
_SRC = re.compile(r"url\(\./files/(?P<file>[^)]+\.woff2)\)")
_RANGE = re.compile(r"unicode-range:\s*(?P<ranges>[^;]+);")


def font_dir() -> Path:
    for base in _SEARCH:
        if (base / PACKAGE / "400.css").exists():
            return base / PACKAGE
    raise ConfigurationError(
        f"the report's font is missing: no {PACKAGE} under {' or '.join(str(s) for s in _SEARCH)} "
        "(scripts/setup installs it for web/)"
    )


def _ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        part = part.strip().removeprefix("U+").removeprefix("u+")
        low, _, high = part.partition("-")
        out.append((int(low, 16), int(high or low, 16)))
    return out


def font_faces(text: str, weights: tuple[int, ...] = (400, 700)) -> tuple[str, str]:
    """`@font-face` rules with the woff2 subsets that cover `text`, inlined, and the font-family list
    that names them."""
    directory = font_dir()
    used = {ord(ch) for ch in text}
    rules: list[str] = []
    families: dict[str, None] = {}
    for weight in weights:
        for face in _FACE.finditer((directory / f"{weight}.css").read_text()):
            body = face.group("body")
            src, ranges = _SRC.search(body), _RANGE.search(body)
            if src is None or ranges is None:
                continue
            spans = _ranges(ranges.group("ranges"))
            if not any(low <= cp <= high for cp in used for low, high in spans):
                continue
            data = base64.b64encode((directory / "files" / src.group("file")).read_bytes()).decode()
            # One family per subset: WeasyPrint mixes up glyphs of same-family faces told apart only by
            # unicode-range, while a font-family list falls back per character everywhere.
            family = f"{FAMILY} {src.group('file').split('-')[3]}"
            families.setdefault(family, None)
            rules.append(
                f"@font-face{{font-family:'{family}';font-style:normal;font-weight:{weight};"
                f"src:url(data:font/woff2;base64,{data}) format('woff2');"
                f"unicode-range:{ranges.group('ranges').strip()};}}"
            )
    stack = ", ".join(f"'{f}'" for f in families)
    return "\n".join(rules), (stack + ", " if stack else "") + "sans-serif"
