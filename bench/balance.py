#!/usr/bin/env python3
"""Bench (not a test): do simultaneous jobs find every helper of the generation?

  bench/balance.py [ROUNDS=20] [BINARY=build/shoal]

Runs BINARY with 2 workers x 2 helpers and a 300 ms `sleep` job (no CPU, so no contention),
then for 4 and 8 simultaneous jobs, each on a new connection or on keep-alive connections
opened (and spread by the kernel) before the round, counts the rounds that finish in the
ideal time: one job time for 4 jobs, two for 8 (plus 150 ms of slack), out of ROUNDS. Also
/fast latency (p50, p99) from one client looping beside the rounds, against idle. Before
issue 15 a worker's jobs could only use its own two helpers.
"""
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
BINARY = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "shoal")
PORT = 18131
JOB_MS = 300
HELPERS = 4


def request(conn, path):
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def round_time(jobs, keep_alive):
    conns = [http.client.HTTPConnection("127.0.0.1", PORT, timeout=30) for _ in range(jobs)]
    if keep_alive:
        for c in conns:
            request(c, "/fast")  # connected and placed on a worker before the round
    barrier = threading.Barrier(jobs + 1)
    statuses = []

    def one(c):
        barrier.wait()
        statuses.append(request(c, "/nap"))

    threads = [threading.Thread(target=one, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.monotonic()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    for c in conns:
        c.close()
    return took, all(s == 200 for s in statuses)


def fast_latencies(stop, out):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    while not stop.is_set():
        start = time.monotonic()
        request(conn, "/fast")
        out.append((time.monotonic() - start) * 1000)
        time.sleep(0.002)


def percentiles(values):
    values = sorted(values)
    return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]


def main():
    work = tempfile.mkdtemp(prefix="shoal-balance-")
    os.chmod(work, 0o755)
    config = f"{work}/shoal.yaml"
    with open(config, "w") as f:
        f.write(f"""workers: 2
log: {{ error: {{ path: {work}/error.log, level: warn }}, access: {{ path: off }} }}
helpers: {{ count: 2, queue: 128 }}
servers:
  - listen: 127.0.0.1:{PORT}
    routes:
      - match: /fast
        return: {{ status: 200, body: "fast" }}
      - match: /nap
        job: {{ builtin: sleep, ms: {JOB_MS} }}
""")
    server = subprocess.Popen([BINARY, "-c", config])
    try:
        for _ in range(100):
            try:
                request(http.client.HTTPConnection("127.0.0.1", PORT, timeout=1), "/fast")
                break
            except OSError:
                time.sleep(0.05)
        idle = []
        stop = threading.Event()
        t = threading.Thread(target=fast_latencies, args=(stop, idle))
        t.start()
        time.sleep(2)
        stop.set()
        t.join()
        busy = []
        stop = threading.Event()
        t = threading.Thread(target=fast_latencies, args=(stop, busy))
        t.start()
        print(f"balance: {os.path.basename(BINARY)} ({BINARY}), 2 workers x 2 helpers, "
              f"{JOB_MS} ms sleep jobs, {ROUNDS} rounds each")
        for jobs in (4, 8):
            ideal = -(-jobs // HELPERS) * JOB_MS / 1000
            for keep_alive in (False, True):
                times = []
                ok = True
                for _ in range(ROUNDS):
                    took, fine = round_time(jobs, keep_alive)
                    times.append(took)
                    ok = ok and fine
                at_ideal = sum(1 for x in times if x < ideal + 0.15)
                print(f"  {jobs} jobs, {'keep-alive' if keep_alive else 'new connections':15s}: "
                      f"{at_ideal:2d}/{ROUNDS} rounds at the ideal {ideal * 1000:.0f} ms; median "
                      f"{statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms"
                      + ("" if ok else " (some requests failed)"))
        stop.set()
        t.join()
        p50, p99 = percentiles(idle)
        b50, b99 = percentiles(busy)
        print(f"  /fast idle p50 {p50:.2f} ms p99 {p99:.2f} ms; during the rounds p50 {b50:.2f} ms "
              f"p99 {b99:.2f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
