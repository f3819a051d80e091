"""Catalogue search: the in-memory index (doorstep_shared.textsearch) against a plain LIKE scan.

Measured in one process, in the same run: median and p99 latency per query at the handbook's
68 items and at 5,000 generated items. The LIKE scan runs on an in-memory SQLite table holding
the same name / aliases / text, and can only match characters (no pinyin, no ranking): it is
the baseline, not an equivalent.

    .venv/bin/python bench/bench_catalog_search.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence

from doorstep_catalog.demo.handbook import ITEMS
from doorstep_catalog.demo.handbook import item_content as _content
from doorstep_catalog.items.index import new_search_index

QUERIES = [
    "gl",
    "gaoling",
    "高龄",
    "残疾人补贴",
    "cjr",
    "butie",
    "养老金",
    "yanglaojin",
    "4050",
    "身份证",
    "高ling",
    "b",
    "zzzz",
]

WORDS = (  # noqa: SIM905 (one readable line of vocabulary per row)
    "城乡 居民 老年人 残疾人 困难 家庭 儿童 妇女 退役 军人 失业 人员 灵活 就业 社会 保险 医疗 养老 "
    "住房 公租房 廉租 低保 特困 临时 救助 补贴 津贴 证明 登记 申请 认定 办理 变更 注销 补办 换领 "
    "发放 审核 资格 认证 参保 缴费 转移 接续 服务 护理 康复 托养 助学 创业 贷款 培训 岗位 优待 "
    "计划 生育 独生 子女 户籍 居住 婚育 证件 社区 网格 驿站 代办 上门 窗口 材料 流程 时限 部门"
).split()


def _generated(n: int, rng: random.Random) -> list[tuple[str, dict[str, str | list[str]]]]:
    docs: list[tuple[str, dict[str, str | list[str]]]] = []
    for i in range(n):
        name = "".join(rng.sample(WORDS, rng.randint(2, 4)))
        aliases = ["".join(rng.sample(WORDS, 2)) for _ in range(rng.randint(0, 3))]
        text = "，".join("".join(rng.sample(WORDS, 3)) for _ in range(rng.randint(3, 8)))
        docs.append((f"gen-{i}", {"name": name, "alias": aliases, "summary": text}))
    return docs


def handbook() -> list[tuple[str, dict[str, str | list[str]]]]:
    docs: list[tuple[str, dict[str, str | list[str]]]] = []
    for row in ITEMS:
        code, name, _, content = _content(row)
        text = [content["summary"], content["audience"], content["conditions"], content["department"]]
        text += [m["name"] for m in content["materials"]]
        docs.append((code, {"name": name, "alias": content["aliases"], "text": text}))
    return docs


def _timings(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Per-call microseconds of wall time and of this thread's CPU time, with the garbage
    collector paused (as timeit does). On a shared machine the wall-clock p99 mostly measures
    the scheduler (a preempted call waits a whole time slice); CPU time does not."""
    wall, cpu = [], []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            fn()
            cpu.append((time.thread_time_ns() - start_cpu) / 1000)
            wall.append((time.perf_counter_ns() - start) / 1000)
    finally:
        gc.enable()
    return wall, cpu


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(size: int, docs: list[tuple[str, dict[str, str | list[str]]]], repeat: int) -> list[tuple[str, ...]]:
    start = time.perf_counter()
    index = new_search_index()
    for key, values in docs:
        index.upsert(key, values)
    build_ms = (time.perf_counter() - start) * 1000
    gc.freeze()  # as the catalog service does after a build

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE item (code TEXT PRIMARY KEY, name TEXT, aliases TEXT, body TEXT)")
    db.executemany(
        "INSERT INTO item VALUES (?, ?, ?, ?)",
        [(k, str(v["name"]), "|".join(v["alias"]), "\n".join(v["text"])) for k, v in docs],
    )
    like = "SELECT code FROM item WHERE name LIKE ?1 OR aliases LIKE ?1 OR body LIKE ?1"

    rows: list[tuple[str, ...]] = []
    all_cpu: list[float] = []
    for q in QUERIES:
        hits = len(index.search(q))
        idx, idx_cpu = _timings(lambda q=q: index.search(q, memo=False), repeat)  # type: ignore[misc]
        pattern = f"%{q}%"
        sql_hits = len(db.execute(like, (pattern,)).fetchall())
        scan, scan_cpu = _timings(lambda p=pattern: db.execute(like, (p,)).fetchall(), repeat)  # type: ignore[misc]
        all_cpu += idx_cpu
        rows.append(
            (
                str(size),
                q,
                str(hits),
                f"{statistics.median(idx):.1f}",
                f"{_p99(idx):.1f}",
                f"{_p99(idx_cpu):.1f}",
                str(sql_hits),
                f"{statistics.median(scan):.1f}",
                f"{_p99(scan):.1f}",
                f"{_p99(scan_cpu):.1f}",
                f"{statistics.median(scan) / max(statistics.median(idx), 0.01):.1f}x",
            )
        )
    warm = [t for q in QUERIES for t in _timings(lambda q=q: index.search(q), repeat // 4)[1]]  # type: ignore[misc]
    print(
        f"  {size:>5} items: index built in {build_ms:.0f} ms; CPU p99 over all queries"
        f" {_p99(all_cpu):.0f} µs cold, {_p99(warm):.0f} µs memoised"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 1 minute)")
    args = parser.parse_args()
    repeat = 200 if args.quick else 2000
    rng = random.Random(20260301)
    base = handbook()
    print(f"catalog search benchmark ({repeat} runs per query)")
    rows = run(len(base), base, repeat)
    rows += run(5000, base + _generated(5000 - len(base), rng), repeat)
    header = (
        "items",
        "query",
        "hits",
        "idx med µs",
        "idx p99 µs",
        "idx p99 CPU µs",
        "LIKE hits",
        "LIKE med µs",
        "LIKE p99 µs",
        "LIKE p99 CPU µs",
        "LIKE/idx (med)",
    )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
