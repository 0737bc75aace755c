#!/usr/bin/env python3
"""Seeds for the fuzz targets from real market data, written at run time (the data files are not
ours to commit): `make_seeds.py DATA_DIR CORPUS_DIR`. Each seed starts with the option bytes its
target reads (see fuzz_targets/*.rs). Missing data files are skipped; the committed synthetic seeds
in fuzz/seeds/ still apply."""
import csv
import io
import json
import os
import sys
from datetime import datetime, timezone

data, out = sys.argv[1], sys.argv[2]
ROWS = 120


def write(target, name, prefix, text):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(prefix) + text.encode())


def iso(ms):
    t = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def bars():
    """(open_ms, o, h, l, c) rows of each real file that has them, first ROWS of each."""
    for name in sorted(os.listdir(data)):
        path = os.path.join(data, name)
        if name.endswith(".json") and "swagger" not in name:
            with open(path) as f:
                rows = json.load(f)[:ROWS]
            yield name, [tuple(r[:5]) for r in rows], None
        elif name.endswith(".csv"):
            with open(path) as f:
                head = "".join(f.readline() for _ in range(ROWS + 1))
            yield name, None, head


made = 0
for name, rows, head in bars():
    stem = name.rsplit(".", 1)[0]
    if head is not None:
        # The CSV as it is: detected, and forced to CSV with each stamp convention.
        for i, opts in enumerate([0, 3, 3 | 4, 3 | 8]):
            write("candle_files", f"{stem}-{i}", [opts, 0], head)
        made += 1
        continue
    text = json.dumps(rows, separators=(",", ":"))
    write("candle_files", f"{stem}-freqtrade", [0, 0], text)
    write("candle_files", f"{stem}-freqtrade-1m", [1 | (2 << 5), 0], text)
    # The same bars as BitMEX serves them: end-of-bucket stamps, newest first when reversed.
    step = rows[1][0] - rows[0][0] if len(rows) > 1 else 60_000
    bucketed = [
        {"timestamp": iso(r[0] + step), "symbol": "LTCUSDT", "open": r[1], "high": r[2],
         "low": r[3], "close": r[4], "trades": 10, "volume": 1000, "vwap": r[4],
         "lastSize": 1, "turnover": 1, "homeNotional": 1, "foreignNotional": r[4]}
        for r in rows
    ]
    body = json.dumps(bucketed)
    write("candle_files", f"{stem}-bitmex", [2, 0], body)
    write("bitmex_responses", f"{stem}-bucketed", [0], body)
    write("bitmex_responses", f"{stem}-bucketed-reverse", [1], json.dumps(bucketed[::-1]))
    # A core snapshot and a runner state after these closes (windows up to the target's CAP of 64).
    closes = [round(r[4] * 100) for r in rows]
    for short, long in [(2, 4), (3, 5), (10, 50), (2, 64)]:
        if len(closes) < long:
            continue
        win = closes[-long:]
        s, l = sum(win[-short:]), sum(win)
        regime = "Bullish" if s * long > l * short else "Bearish" if s * long < l * short else None
        target = {"Bullish": 1000, "Bearish": -1000, None: 0}[regime]
        state = {"closes": win, "short_sum": s, "long_sum": l,
                 "last_close_ms": rows[-1][0] + step, "regime": regime, "pending": None,
                 "streak": 0, "since_flip": 0, "target": target}
        params = {"short_window": short, "long_window": long, "mode": "LongShort", "qty": 1000,
                  "lot_size": 1000, "max_position": 1000, "bin_ms": step,
                  "guards": {"hysteresis_bp": 0, "confirm_bars": 0, "min_hold_bars": 0}}
        snap = {"v": 1, "params": params, **state}
        write("core_snapshot", f"{stem}-{short}-{long}", [], json.dumps(snap, separators=(",", ":")))
        if (short, long) == (2, 4):
            # The state alone: the target restores it against windows 2/4.
            write("core_snapshot", f"{stem}-state", [], json.dumps({"v": 1, **state}, separators=(",", ":")))
    # Real prices as the price parser meets them: the file's decimal text at a cent tick.
    for i, r in enumerate(rows[:8]):
        write("core_price", f"{stem}-{i}", [0, 1, 0, 0, 0, 2], repr(r[4]))
    made += 1
print(f"seeds from {made} real data files in {data}")
