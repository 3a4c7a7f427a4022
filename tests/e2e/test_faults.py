"""Faults: the ingest function talks to moto through a fault-injecting proxy (faultproxy.py) that
answers 503 in place of S3 or SNS for a while. The invocation must fail (so Lambda retries),
announce nothing, and leave no analysis; the retry, once the fault has passed, must complete the
photo with the same keys and bytes as a clean run and exactly one `photo.analyzed`. And an
upload S3 sends without its length is read up to the byte limit and no further."""

import json
import subprocess

import pytest

import faultproxy
from conftest import PHOTOS, REPO, drain, invoke, objects, start_emulator, stop

PHOTO = PHOTOS / "camera/pixel_IMG_20180725_163423.jpg"


@pytest.fixture(scope="module")
def proxy(endpoint):
    server, faults = faultproxy.start(int(endpoint.rsplit(":", 1)[1]))
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "faults": faults}
    server.shutdown()


@pytest.fixture(scope="module")
def faulty(aws, proxy, tmp_path_factory):
    """The ingest function with every S3 and SNS call going through the proxy."""
    proc, emulator = start_emulator("ingest", aws, proxy["url"], tmp_path_factory)
    yield emulator
    stop(proc)


@pytest.fixture(scope="module")
def clean(aws, faulty, proxy, tmp_path_factory):
    """The photo ingested once with no fault: the outputs every retry must reproduce."""
    proxy["faults"].rules.clear()
    aws["s3"].put_object(Bucket="photo-uploads", Key="uploads/faults/clean.jpg", Body=PHOTO.read_bytes())
    path = event_file(tmp_path_factory.mktemp("faults"), "uploads/faults/clean.jpg")
    assert invoke(faulty, path) == {"processed": 1, "failed": 0, "skipped": 0}
    drain(aws, "events")
    return outputs_of(aws, "faults/clean.jpg")


def event_file(folder, key: str):
    path = folder / (key.replace("/", "_") + ".json")
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": key}}}
    path.write_text(json.dumps({"Records": [record]}))
    return path


def outputs_of(aws, relative: str) -> dict[str, bytes]:
    """The photo's outputs, keyed by what follows its name (`/2048.jpg`, `.json`)."""
    found = {}
    for key, body in objects(aws, "photo-outputs").items():
        for prefix in (f"renditions/{relative}", f"analysis/{relative}"):
            if key.startswith(prefix):
                found[key[len(prefix):]] = body
    return found


def invoke_failing(emulator, path) -> str:
    result = subprocess.run(
        ["cargo", "lambda", "invoke", emulator["function"], "-P", str(emulator["port"]), "--data-file", str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode != 0, "a transient fault must fail the invocation, so Lambda retries"
    return result.stdout + result.stderr


@pytest.mark.parametrize("fault", ["output_put", "input_get", "input_head", "publish"])
def test_a_transient_fault_fails_the_invocation_and_the_retry_completes_the_photo(aws, faulty, proxy, clean, fault, tmp_path):
    key = f"uploads/faults/{fault}.jpg"
    relative = key.removeprefix("uploads/")
    aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=PHOTO.read_bytes())
    rule = {
        # Two renditions stored, then S3 stops taking writes.
        "output_put": faultproxy.Rule(faultproxy.s3_put("photo-outputs"), after=2),
        "input_get": faultproxy.Rule(faultproxy.s3_get("photo-uploads")),
        # Everything stored, then the check that the upload did not change meanwhile fails.
        "input_head": faultproxy.Rule(faultproxy.s3_head("photo-uploads")),
        # Everything stored, then SNS fails.
        "publish": faultproxy.Rule(faultproxy.sns_publish()),
    }[fault]
    proxy["faults"].rules[:] = [rule]
    path = event_file(tmp_path, key)
    output = invoke_failing(faulty, path)
    assert rule.failed >= 1, "the fault was injected"
    assert "panicked" not in output
    partial = outputs_of(aws, relative)
    if fault in ("input_head", "publish"):
        assert ".json" in partial, "the fault came after every output was written"
    else:
        assert ".json" not in partial, "the analysis, written last, marks a complete set"
    assert [m for m in drain(aws, "events") if m["key"] == key] == [], "nothing announced"
    assert drain(aws, "failures") == [], "a transient fault is not a failure of the photo"

    proxy["faults"].rules.clear()  # the fault has passed: Lambda's retry
    assert invoke(faulty, path) == {"processed": 1, "failed": 0, "skipped": 0}
    assert outputs_of(aws, relative) == clean, "the same keys and bytes as a clean run"
    assert [m["key"] for m in drain(aws, "events")] == [key], "announced exactly once"


def test_an_upload_sent_without_its_length_is_counted_up_to_the_limit(aws, faulty, proxy, clean, tmp_path):
    # Under the limit, the photo read by counting gives the clean run's outputs.
    key = "uploads/faults/unsized.jpg"
    aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=PHOTO.read_bytes())
    proxy["faults"].rules.clear()
    proxy["faults"].chunked.append(faultproxy.s3_get("photo-uploads"))
    try:
        assert invoke(faulty, event_file(tmp_path, key)) == {"processed": 1, "failed": 0, "skipped": 0}
        assert outputs_of(aws, "faults/unsized.jpg") == clean
        # One byte over the default MAX_INPUT_BYTES (64 MiB): refused once the limit is passed,
        # with no size to quote.
        head = PHOTO.read_bytes()
        aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=head + bytes(64 * 1024 * 1024 + 1 - len(head)))
        drain(aws, "events")
        assert invoke(faulty, event_file(tmp_path, key)) == {"processed": 0, "failed": 1, "skipped": 0}
    finally:
        proxy["faults"].chunked.clear()
    [failure] = drain(aws, "failures")
    assert (failure["key"], failure["kind"]) == (key, "limits")
    assert failure["message"] == "input is over the limit of 67108864 bytes"
    assert outputs_of(aws, "faults/unsized.jpg") == {}, "the earlier outputs of that key are removed"
    assert drain(aws, "events") == []
    aws["s3"].delete_object(Bucket="photo-uploads", Key=key)
