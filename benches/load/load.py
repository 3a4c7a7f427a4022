#!/usr/bin/env python3
"""Load test: N uploads (default 1,000: the corpus' good photos, cycled, under varied keys)
through the local CLI and through the `ingest` function against moto's S3/SNS server. Checks that
every photo was processed exactly once (one analysis and renditions per key, one `photo.analyzed`
per key, no failure, nothing else written) and prints throughput (photos/s) and peak memory.

    benches/load/run.sh [--count 1000] [--only cli|lambda]

The CLI run ingests a folder of hard links to the corpus photos (never copies in the
repository) with one worker per core; its peak RSS is the process's own (wait4's rusage). The Lambda run starts moto's server, uploads the photos, serves `ingest` with
`cargo lambda watch` (release build, one process, records handled one after another, as one
Lambda instance does) and invokes it with S3 events of 10 records through the emulator's invoke
endpoint; its peak RSS is the function process's VmHWM, read from /proc before it is stopped.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PHOTOS = Path(os.environ.get("PHOTO_SUITE_PHOTOS", REPO.parent / "shared" / "photos"))
FOLDERS = ("camera", "faces", "exif-orientation", "formats")
RECORDS_PER_EVENT = 10


def corpus() -> list[Path]:
    files = sorted(p for folder in FOLDERS for p in (PHOTOS / folder).iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        sys.exit(f"no photos under {PHOTOS}")
    return files


def plan(count: int) -> list[tuple[str, Path]]:
    """`count` (key, photo) pairs: the corpus cycled, each key different."""
    files = corpus()
    return [(f"load/batch-{i // 100:02d}/{i:04d}-{files[i % len(files)].name}", files[i % len(files)]) for i in range(count)]


def ingest_binary() -> Path:
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "photo-suite", "-p", "ingest"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "photo-suite"


def check_exactly_once(keys: list[str], analysis: list[str], renditions: Counter, announced: list[str], failures: int) -> list[str]:
    problems = []
    if failures:
        problems.append(f"{failures} failures")
    if sorted(analysis) != sorted(keys):
        problems.append(f"analysis documents: {len(analysis)} for {len(keys)} keys")
    if sorted(announced) != sorted(keys):
        extra = [k for k, n in Counter(announced).items() if n > 1]
        problems.append(f"photo.analyzed: {len(announced)} messages for {len(keys)} keys, {len(extra)} repeated")
    wrong = [k for k in keys if renditions.get(k) != 3]
    if wrong:
        problems.append(f"{len(wrong)} keys without exactly 3 renditions (e.g. {wrong[0]})")
    return problems


def run_cli(pairs: list[tuple[str, Path]]) -> dict:
    binary = ingest_binary()
    work = Path(tempfile.mkdtemp(prefix="photo-suite-load-"))
    try:
        source, out = work / "in", work / "out"
        for key, photo in pairs:
            target = source / key
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(photo, target)
            except OSError:
                shutil.copyfile(photo, target)
        started = time.perf_counter()
        with open(work / "stderr", "w+") as err:
            proc = subprocess.Popen([str(binary), "ingest", str(source), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=err)
            # wait4 gives this child's own peak RSS (not that of the build run before it).
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            elapsed = time.perf_counter() - started
            err.seek(0)
            stderr = err.read()
        peak_kb = usage.ru_maxrss
        keys = [k for k, _ in pairs]
        analysis = [str(p.relative_to(out / "analysis"))[: -len(".json")] for p in (out / "analysis").rglob("*.json")]
        renditions = Counter(str(p.parent.relative_to(out / "renditions")) for p in (out / "renditions").rglob("*.jpg"))
        announced = [json.loads(line)["key"] for line in (out / "events.jsonl").read_text().splitlines()]
        failures = len((out / "failures.jsonl").read_text().splitlines())
        problems = check_exactly_once(keys, analysis, renditions, announced, failures)
        if proc.returncode != 0:
            problems.append(f"exit code {proc.returncode}: {stderr[-500:]}")
        return {"photos": len(pairs), "seconds": elapsed, "peak_rss_mb": peak_kb / 1024, "problems": problems, "threads": os.cpu_count()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(port)


def function_pid(binary: Path) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "exe")) == binary:
                    return int(entry.name)
            except OSError:
                continue
    return None


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_lambda(pairs: list[tuple[str, Path]]) -> dict:
    import boto3  # installed by scripts/test-tools.sh

    ingest_binary()
    logs = Path(tempfile.mkdtemp(prefix="photo-suite-load-logs-"))
    moto_port, invoke_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], stdout=open(logs / "moto.log", "w"), stderr=subprocess.STDOUT)
    watch = None
    try:
        wait_for(moto_port, moto, 30)
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        s3, sns, sqs = (session.client(n, endpoint_url=endpoint) for n in ("s3", "sns", "sqs"))
        for bucket in ("photo-uploads", "photo-outputs"):
            s3.create_bucket(Bucket=bucket)
        topics, queues = {}, {}
        for name in ("events", "failures"):
            topics[name] = sns.create_topic(Name=f"photo-{name}")["TopicArn"]
            queues[name] = sqs.create_queue(QueueName=f"observe-{name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=queues[name], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topics[name], Protocol="sqs", Endpoint=arn)
        for key, photo in pairs:
            s3.put_object(Bucket="photo-uploads", Key="uploads/" + key, Body=photo.read_bytes())
        # The memory the template gives ingest: the function keeps 40% of it between photos.
        config = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "INPUT_BUCKET": "photo-uploads", "OUTPUT_BUCKET": "photo-outputs", "EVENTS_TOPIC_ARN": topics["events"],
                  "FAILURES_TOPIC_ARN": topics["failures"], "INPUT_PREFIX": "uploads/", "AWS_ENDPOINT_URL": endpoint, **credentials}
        env_args = [a for k, v in config.items() for a in ("--env-var", f"{k}={v}")]
        watch = subprocess.Popen(
            ["cargo", "lambda", "watch", "--release", "--package", "ingest", "--bin", "ingest", "-P", str(invoke_port), "--ignore-changes", "--timeout", "900", *env_args],
            cwd=REPO, env=dict(os.environ, **config), stdout=open(logs / "watch.log", "w"), stderr=subprocess.STDOUT,
        )
        wait_for(invoke_port, watch, 600)
        url = f"http://127.0.0.1:{invoke_port}/2015-03-31/functions/ingest/invocations"
        processed, pid, peak = 0, None, 0.0
        started = time.perf_counter()
        for i in range(0, len(pairs), RECORDS_PER_EVENT):
            records = [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": urllib.parse.quote_plus("uploads/" + key, safe="/")}}}
                       for key, _ in pairs[i:i + RECORDS_PER_EVENT]]
            request = urllib.request.Request(url, data=json.dumps({"Records": records}).encode(), method="POST")
            with urllib.request.urlopen(request, timeout=900) as response:
                result = json.loads(response.read())
            processed += result.get("processed", 0)
            pid = pid or function_pid(REPO / "target" / "release" / "ingest")
            if pid:
                peak = max(peak, vm_hwm_mb(pid))
        elapsed = time.perf_counter() - started
        outputs = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="photo-outputs") for o in page.get("Contents", [])]
        keys = [k for k, _ in pairs]
        analysis = [k[len("analysis/"):-len(".json")] for k in outputs if k.startswith("analysis/")]
        renditions = Counter(k[len("renditions/"):].rsplit("/", 1)[0] for k in outputs if k.startswith("renditions/"))

        def drain(queue: str) -> list[dict]:
            got = []
            while True:
                batch = sqs.receive_message(QueueUrl=queues[queue], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
                if not batch:
                    return got
                for m in batch:
                    got.append(json.loads(json.loads(m["Body"])["Message"]))
                    sqs.delete_message(QueueUrl=queues[queue], ReceiptHandle=m["ReceiptHandle"])

        announced = [m["key"].removeprefix("uploads/") for m in drain("events")]
        failures = len(drain("failures"))
        problems = check_exactly_once(keys, analysis, renditions, announced, failures)
        if processed != len(pairs):
            problems.append(f"the function reported {processed} processed")
        return {"photos": len(pairs), "seconds": elapsed, "peak_rss_mb": peak, "problems": problems}
    finally:
        for proc in (watch, moto):
            if proc:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--only", choices=("cli", "lambda"))
    args = parser.parse_args()
    pairs = plan(args.count)
    total_mb = sum(p.stat().st_size for _, p in pairs) / 1e6
    print(f"{len(pairs)} uploads from {len(corpus())} corpus photos ({total_mb:.0f} MB in all)")
    failed = False
    for name, run in (("cli", run_cli), ("lambda", run_lambda)):
        if args.only and args.only != name:
            continue
        result = run(pairs)
        rate = result["photos"] / result["seconds"]
        what = f"CLI, {result['threads']} workers" if name == "cli" else "ingest function under cargo lambda, against moto"
        print(f"{what}: {result['photos']} photos in {result['seconds']:.1f} s = {rate:.2f} photos/s, peak RSS {result['peak_rss_mb']:.0f} MB")
        if result["problems"]:
            failed = True
            print("  NOT exactly once: " + "; ".join(result["problems"]))
        else:
            print("  exactly once: one analysis, 3 renditions and one photo.analyzed per key; no failure")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
