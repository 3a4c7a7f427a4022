"""Real parts for the end-to-end tests: moto's S3/SNS/SQS server on a free loopback port, and
the functions (`ingest`, `layout`, `render`) running under cargo-lambda's runtime emulator
(`cargo lambda watch`)."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
PHOTOS = Path(os.environ.get("PHOTO_SUITE_PHOTOS", REPO.parent / "shared" / "photos"))
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    wait_for_port(port, 30, proc)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="session")
def aws(endpoint):
    """Buckets, topics, and SQS queues subscribed to the topics to observe what is published."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    s3 = session.client("s3", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    for bucket in ("photo-uploads", "photo-outputs"):
        s3.create_bucket(Bucket=bucket)
    topics, queues = {}, {}
    for name in ("events", "failures", "requests"):
        topics[name] = sns.create_topic(Name=f"photo-{name}")["TopicArn"]
        url = sqs.create_queue(QueueName=f"observe-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topics[name], Protocol="sqs", Endpoint=arn)
        queues[name] = url
    return {"s3": s3, "sns": sns, "sqs": sqs, "topics": topics, "queues": queues}


def start_emulator(function: str, aws: dict, endpoint: str, tmp_path_factory):
    """`cargo lambda watch` serving one function with the stack's configuration."""
    port = free_port()
    env = dict(os.environ, **CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
    config = {
        "INPUT_BUCKET": "photo-uploads",
        "OUTPUT_BUCKET": "photo-outputs",
        "EVENTS_TOPIC_ARN": aws["topics"]["events"],
        "FAILURES_TOPIC_ARN": aws["topics"]["failures"],
        "INPUT_PREFIX": "uploads/",
        "AWS_ENDPOINT_URL": endpoint,
        **CREDENTIALS,
    }
    env_args = [arg for k, v in config.items() for arg in ("--env-var", f"{k}={v}")]
    log_path = tmp_path_factory.mktemp(function) / "watch.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        ["cargo", "lambda", "watch", "--release", "--package", function, "--bin", function, "-P", str(port), "--ignore-changes", "--timeout", "900", *env_args],
        cwd=REPO, env=env, stdout=log, stderr=log,
    )
    try:
        wait_for_port(port, 600, proc)
    except Exception:
        stop(proc)
        raise RuntimeError(log_path.read_text()[-4000:])
    return proc, {"port": port, "log": log_path, "function": function}


@pytest.fixture(scope="session")
def lambda_emulator(endpoint, aws, tmp_path_factory):
    """The ingest function under the emulator; yields its port, log and name."""
    proc, emulator = start_emulator("ingest", aws, endpoint, tmp_path_factory)
    yield emulator
    stop(proc)


@pytest.fixture(scope="session")
def layout_emulator(endpoint, aws, tmp_path_factory):
    proc, emulator = start_emulator("layout", aws, endpoint, tmp_path_factory)
    yield emulator
    stop(proc)


@pytest.fixture(scope="session")
def render_emulator(endpoint, aws, tmp_path_factory):
    proc, emulator = start_emulator("render", aws, endpoint, tmp_path_factory)
    yield emulator
    stop(proc)


def invoke(emulator, event_file) -> dict:
    """`cargo lambda invoke` with an event file (a name in events/, or a path); returns the
    function's response."""
    result = subprocess.run(
        ["cargo", "lambda", "invoke", emulator["function"], "-P", str(emulator["port"]),
         "--data-file", str(REPO / "events" / event_file), "--output-format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr + emulator["log"].read_text()[-4000:]
    return json.loads(result.stdout)


def drain(aws, queue: str) -> list[dict]:
    """Every message published on a topic so far (through its SQS subscription), decoded."""
    messages = []
    while True:
        got = aws["sqs"].receive_message(QueueUrl=aws["queues"][queue], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        batch = got.get("Messages", [])
        if not batch:
            return messages
        for m in batch:
            envelope = json.loads(m["Body"])
            assert len(envelope["Message"].encode()) < 256 * 1024, "SNS messages stay under 256 KB"
            messages.append(json.loads(envelope["Message"]))
            aws["sqs"].delete_message(QueueUrl=aws["queues"][queue], ReceiptHandle=m["ReceiptHandle"])


def objects(aws, bucket: str) -> dict[str, bytes]:
    s3 = aws["s3"]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
