"""Vector search past one report (docs/SCALE.md): build time, search latency and memory of FAISS flat,
FAISS HNSW and Milvus (embedded milvus-lite, flat and HNSW) at growing passage counts, and the
approximate indexes' recall against exact search.

Synthetic data: 384-d unit vectors (the packaged model's dimension) drawn around 2,000 random centres,
so neighbours are near as real passage vectors are; queries are perturbed copies of stored points.
Each search asks for 300 results, what the retriever's dense pool asks for (UNITS_PER_PASSAGE *
QA_CANDIDATES). One query at a time, after warm-up. Memory: FAISS,
the index's own bytes (held in the serving process); Milvus, the growth of this process's resident memory
while milvus-lite (which runs inside the client's process) loads the collection: a lower bound after the
first Milvus row, as freed memory is not always returned to the system.

    python -m bench.scale --sizes 10000 100000 --queries 100 --output bench/results/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

DIM, CENTRES, K, RECALL_AT = 384, 2000, 300, 10
# noise of length ~0.8 around a unit centre: a point's cosine to its centre is ~0.8, as related passages'
# e5 vectors are (uniform random vectors, the hardest case for HNSW, have no near neighbours at all)
NOISE = 0.8 / DIM**0.5


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((CENTRES, DIM)))
    data = np.empty((n, DIM), dtype=np.float32)
    for at in range(0, n, 100_000):  # in blocks: the noise of 1M rows at once would double peak memory
        m = min(100_000, n - at)
        data[at : at + m] = unit(centres[rng.integers(0, CENTRES, m)] + NOISE * rng.standard_normal((m, DIM)))
    picked = data[rng.integers(0, n, queries)]
    return data, unit(picked + NOISE / 2 * rng.standard_normal(picked.shape))


def rss_mb() -> float:
    """This process's resident memory (milvus-lite runs its server inside the client's process), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(search, queries: np.ndarray) -> tuple[list[float], list[np.ndarray]]:
    for q in queries[:5]:
        search(q)
    times, results = [], []
    for q in queries:
        t0 = time.perf_counter()
        results.append(search(q))
        times.append((time.perf_counter() - t0) * 1000)
    return times, results


def faiss_backend(kind: str, data: np.ndarray):
    import faiss

    from qa.storage.vectors import VectorIndex

    index = VectorIndex.build(data, kind)  # the serving code's own builder and parameters
    held_mb = len(faiss.serialize_index(index.index)) / 2**20  # what the serving process holds for it
    return (lambda q: index.search(q, K)[1]), held_mb, lambda: None


def milvus_backend(kind: str, data: np.ndarray, folder: Path):
    from pymilvus import DataType, MilvusClient

    before = rss_mb()
    client = MilvusClient(str(folder / f"scale-{kind}-{len(data)}.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    params = client.prepare_index_params()
    if kind == "hnsw":  # the parameters qa/storage/milvus_write.py uses
        params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                         params={"M": 32, "efConstruction": 200})
    else:
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    client.create_collection("units", schema=schema, index_params=params)
    for at in range(0, len(data), 5000):
        block = data[at : at + 5000]
        client.insert("units", [{"id": at + i, "vector": v} for i, v in enumerate(block.tolist())])
    client.flush("units")
    client.load_collection("units")

    def search(q: np.ndarray) -> np.ndarray:
        hits = client.search("units", data=[q.tolist()], limit=K, output_fields=["id"],  # else every field comes
                             search_params={"metric_type": "IP", "params": {"ef": 128}})[0]
        return np.asarray([h["id"] for h in hits])

    return search, rss_mb() - before, client.close


def recall(results: list[np.ndarray], exact: list[np.ndarray]) -> float:
    return float(np.mean([len(set(r[:RECALL_AT].tolist()) & set(e[:RECALL_AT].tolist())) / RECALL_AT
                          for r, e in zip(results, exact)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--backends", nargs="+", default=["faiss-flat", "faiss-hnsw", "milvus-flat", "milvus-hnsw"])
    ap.add_argument("--output", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one query, one thread: as `qa serve` with QA_THREADS=1
    import faiss

    faiss.omp_set_num_threads(1)
    rows, folder = [], Path(tempfile.mkdtemp(prefix="qa-scale-"))
    for n in args.sizes:
        data, queries = synthetic(n, args.queries)
        exact = None
        for name in args.backends:
            store, kind = name.split("-")
            t0 = time.perf_counter()
            search, memory, close = (faiss_backend(kind, data) if store == "faiss"
                                     else milvus_backend(kind, data, folder))
            build_s = time.perf_counter() - t0
            times, results = timed(search, queries)
            if name == "faiss-flat":
                exact = results
            row = {"backend": name, "passages": n, "build_s": round(build_s, 1), "memory_mb": round(memory),
                   "p50_ms": round(float(np.percentile(times, 50)), 2),
                   "p95_ms": round(float(np.percentile(times, 95)), 2),
                   f"recall@{RECALL_AT}": round(recall(results, exact), 3) if exact else None}
            print(json.dumps(row), flush=True)
            rows.append(row)
            close()
            del search
    if args.output:
        machine = f"{platform.machine()}, {os.cpu_count()} cores"
        args.output.write_text(json.dumps({"machine": machine, "dimension": DIM, "k": K, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
