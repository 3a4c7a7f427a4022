#!/usr/bin/env python3
"""Cold start of a Lambda bootstrap: time from process start until it asks the Runtime API for
its first event (what Lambda bills as Init Duration, less the sandbox's own start).

A minimal Runtime API on a loopback port records when `GET /runtime/invocation/next` arrives;
the bootstrap is then stopped. Run after `cargo build --release -p ingest`:

    python3 benches/coldstart.py [--runs 21] [--binary target/release/ingest]

It prints the median and the spread; the target is at most 50 ms.
"""

import argparse
import http.server
import os
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class Api(http.server.BaseHTTPRequestHandler):
    first_next = None

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if "/runtime/invocation/next" in self.path and Api.first_next is None:
            Api.first_next = time.perf_counter()
        # Never answer: the measurement ends here and the process is stopped.
        time.sleep(5)

    def log_message(self, *args):
        pass


def one_run(binary: Path) -> float:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Api.first_next = None
    env = dict(
        os.environ,
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
        AWS_LAMBDA_FUNCTION_NAME="ingest", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
        OUTPUT_BUCKET="out", EVENTS_TOPIC_ARN="arn:aws:sns:us-east-1:000000000000:e",
        FAILURES_TOPIC_ARN="arn:aws:sns:us-east-1:000000000000:f",
    )
    started = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 10
    while Api.first_next is None and time.perf_counter() < deadline and proc.poll() is None:
        time.sleep(0.0005)
    proc.kill()
    proc.wait()
    server.shutdown()
    server.server_close()
    if Api.first_next is None:
        raise RuntimeError("the bootstrap never asked for an event")
    return (Api.first_next - started) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "ingest")
    args = parser.parse_args()
    one_run(args.binary)  # warm the page cache
    times = sorted(one_run(args.binary) for _ in range(args.runs))
    median = statistics.median(times)
    print(f"cold start of {args.binary.name}: median {median:.1f} ms, min {times[0]:.1f}, max {times[-1]:.1f} ({args.runs} runs)")
    print(("PASS" if median <= 50 else "FAIL") + f": median {median:.1f} ms <= 50 ms")


if __name__ == "__main__":
    main()
