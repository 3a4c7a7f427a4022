"""End to end: real photos uploaded to S3 (moto), the ingest function run under cargo-lambda's
emulator with S3 events shaped as AWS sends them, results checked in S3 and on the topics."""

import hashlib
import io
import json
import os
import subprocess
from urllib.parse import unquote_plus

import pytest
from PIL import Image

from conftest import PHOTOS, REPO, drain, invoke, objects

# Which corpus photo is uploaded at each key the sample events name.
UPLOADS = {
    "uploads/camera/pixel.jpg": "camera/pixel_IMG_20180725_163423.jpg",
    "uploads/Holiday 2024/Café ☕ beach.heic": "formats/heic_iphone_xs_max.heic",
    "uploads/faces/obama.jpg": "faces/obama_official_portrait.jpg",
    "uploads/orientation/portrait 6.jpg": "exif-orientation/Portrait_6.jpg",
    "elsewhere/not-ours.jpg": "faces/hopper.jpg",
    "uploads/broken/truncated.jpg": "broken/truncated_jpeg_10000B_sharp.jpg",
    "uploads/faces/two people.jpg": "faces/two_people_obama_biden.jpg",
}


# s3-put-multiple.json announces this one as a multipart upload (one part): its eTag is of that.
MULTIPART = {"uploads/orientation/portrait 6.jpg"}


@pytest.fixture(scope="module", autouse=True)
def uploaded(aws):
    s3 = aws["s3"]
    for key, photo in UPLOADS.items():
        body = (PHOTOS / photo).read_bytes()
        if key in MULTIPART:
            upload = s3.create_multipart_upload(Bucket="photo-uploads", Key=key)["UploadId"]
            part = s3.upload_part(Bucket="photo-uploads", Key=key, UploadId=upload, PartNumber=1, Body=body)
            s3.complete_multipart_upload(Bucket="photo-uploads", Key=key, UploadId=upload,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        else:
            s3.put_object(Bucket="photo-uploads", Key=key, Body=body)
    drain(aws, "events")
    drain(aws, "failures")


def s3_records(event: dict):
    """The records of an event, through SNS envelopes (a layout or render request has none)."""
    for record in event.get("Records", []):
        if record.get("EventSource") == "aws:sns":
            yield from s3_records(json.loads(record["Sns"]["Message"]))
        else:
            yield record


def test_the_sample_events_name_the_uploaded_objects_by_their_etags(aws):
    # The sample events are what S3 sends for the photos these tests upload: each ObjectCreated
    # record's eTag and size are those of the object at its key (the multipart one's too).
    checked = 0
    for path in sorted((REPO / "events").glob("*.json")):
        for record in s3_records(json.loads(path.read_text())):
            obj = record.get("s3", {}).get("object", {})
            if not record.get("eventName", "").startswith("ObjectCreated") or "eTag" not in obj:
                continue
            if record["s3"]["bucket"]["name"] != "photo-uploads":
                continue  # hostile-other-bucket.json: refused before anything is read
            key = unquote_plus(obj["key"])
            head = aws["s3"].head_object(Bucket="photo-uploads", Key=key)
            assert (head["ETag"].strip('"'), head["ContentLength"]) == (obj["eTag"], obj["size"]), (path.name, key)
            checked += 1
    assert checked == 7


def renditions_of(outputs: dict, key: str) -> dict:
    return {k: v for k, v in outputs.items() if k.startswith(f"renditions/{key}/")}


def test_an_upload_gets_renditions_analysis_and_an_announcement(aws, lambda_emulator):
    response = invoke(lambda_emulator, "s3-put.json")
    assert response == {"processed": 1, "failed": 0, "skipped": 0}

    outputs = objects(aws, "photo-outputs")
    sizes = {}
    for side in (2048, 1024, 256):
        jpeg = outputs[f"renditions/camera/pixel.jpg/{side}.jpg"]
        image = Image.open(io.BytesIO(jpeg))
        assert image.format == "JPEG" and "exif" not in image.info and "icc_profile" not in image.info
        sizes[side] = image.size
    assert sizes == {2048: (2048, 1536), 1024: (1024, 768), 256: (256, 192)}
    analysis = json.loads(outputs["analysis/camera/pixel.jpg.json"])
    assert (analysis["width"], analysis["height"], analysis["make"]) == (4048, 3036, "Google")
    assert abs(analysis["gps"]["lat"] - 50.2996) < 1e-3
    uploaded = aws["s3"].get_object(Bucket="photo-uploads", Key="uploads/camera/pixel.jpg")["Body"].read()
    assert analysis["sha256"] == hashlib.sha256(uploaded).hexdigest()

    [message] = drain(aws, "events")
    assert message["type"] == "photo.analyzed"
    assert (message["bucket"], message["key"]) == ("photo-uploads", "uploads/camera/pixel.jpg")
    assert message["analysis_key"] == "analysis/camera/pixel.jpg.json"
    head = aws["s3"].head_object(Bucket="photo-uploads", Key="uploads/camera/pixel.jpg")
    assert message["etag"] == head["ETag"].strip('"') != ""
    assert [r["key"] for r in message["renditions"]] == [f"renditions/camera/pixel.jpg/{s}.jpg" for s in (2048, 1024, 256)]
    assert drain(aws, "failures") == []


def test_a_repeated_event_changes_no_object(aws, lambda_emulator):
    invoke(lambda_emulator, "s3-put.json")
    before = objects(aws, "photo-outputs")
    assert invoke(lambda_emulator, "s3-put.json")["processed"] == 1
    after = objects(aws, "photo-outputs")
    assert before == after, "same keys, same bytes"
    drain(aws, "events")


def test_keys_with_spaces_and_unicode_are_decoded(aws, lambda_emulator):
    assert invoke(lambda_emulator, "s3-put-unicode-key.json")["processed"] == 1
    outputs = objects(aws, "photo-outputs")
    key = "Holiday 2024/Café ☕ beach.heic"
    assert len(renditions_of(outputs, key)) == 3
    assert json.loads(outputs[f"analysis/{key}.json"])["format"] == "heic"
    [message] = drain(aws, "events")
    assert message["key"] == "uploads/" + key


def test_every_record_is_handled_and_others_are_left_alone(aws, lambda_emulator):
    response = invoke(lambda_emulator, "s3-put-multiple.json")
    # Two uploads under the prefix; one outside it is skipped; the deletion is not an upload.
    assert response == {"processed": 2, "failed": 0, "skipped": 1}
    outputs = objects(aws, "photo-outputs")
    assert len(renditions_of(outputs, "faces/obama.jpg")) == 3
    portrait = Image.open(io.BytesIO(outputs["renditions/orientation/portrait 6.jpg/256.jpg"]))
    assert portrait.size == (171, 256), "auto-oriented"
    assert not any("not-ours" in k for k in outputs)
    assert sorted(m["key"] for m in drain(aws, "events")) == ["uploads/faces/obama.jpg", "uploads/orientation/portrait 6.jpg"]


def test_a_corrupt_upload_ends_on_the_failure_topic_with_nothing_written(aws, lambda_emulator):
    before = objects(aws, "photo-outputs")
    response = invoke(lambda_emulator, "s3-put-corrupt.json")
    # Success, so Lambda does not retry a photo that can never succeed.
    assert response == {"processed": 0, "failed": 1, "skipped": 0}
    [failure] = drain(aws, "failures")
    assert failure["type"] == "photo.failed"
    assert (failure["key"], failure["kind"]) == ("uploads/broken/truncated.jpg", "decode")
    assert "Premature end" in failure["message"]
    head = aws["s3"].head_object(Bucket="photo-uploads", Key="uploads/broken/truncated.jpg")
    assert failure["etag"] == head["ETag"].strip('"') != ""
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []


# The files of broken/ whose pixels are fine and whose EXIF is broken: kept, EXIF ignored.
BROKEN_BUT_KEPT = {"exif_corrupted_olympus_10mp.jpg", "exif_invalid_image00971.jpg", "exif_range_error_offset.jpg"}


def test_every_broken_file_fails_typed_on_the_failure_topic_except_broken_exif(aws, lambda_emulator, tmp_path):
    # (tests/broken.rs pins each file's kind through the CLI; this is the function's side.)
    names = sorted(p.name for p in (PHOTOS / "broken").iterdir() if p.is_file())
    records = []
    for name in names:
        key = f"uploads/broken-all/{name}"
        aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=(PHOTOS / "broken" / name).read_bytes())
        records.append({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": key}}})
    event = tmp_path / "broken.json"
    event.write_text(json.dumps({"Records": records}))
    drain(aws, "events")
    drain(aws, "failures")
    kept = len(BROKEN_BUT_KEPT)
    assert invoke(lambda_emulator, event) == {"processed": kept, "failed": len(names) - kept, "skipped": 0}
    failures = {m["key"].removeprefix("uploads/broken-all/"): m for m in drain(aws, "failures")}
    assert sorted(failures) == sorted(set(names) - BROKEN_BUT_KEPT), "one photo.failed each"
    for name, failure in failures.items():
        assert failure["type"] == "photo.failed"
        assert failure["kind"] in {"decode", "limits", "unsupported", "format_mismatch"}, (name, failure)
        assert failure["message"], name
    announced = sorted(m["key"].removeprefix("uploads/broken-all/") for m in drain(aws, "events"))
    assert announced == sorted(BROKEN_BUT_KEPT)
    written = {k.split("/")[2].removesuffix(".json") for k in objects(aws, "photo-outputs") if "/broken-all/" in k}
    assert written == BROKEN_BUT_KEPT, "nothing written for a failed file"


def test_an_upload_over_the_byte_limit_is_refused_with_nothing_written(aws, lambda_emulator, tmp_path):
    # One byte over the default MAX_INPUT_BYTES (64 MiB): a real JPEG's start, then filler.
    key = "uploads/huge/too-big.jpg"
    head = (PHOTOS / "faces/hopper.jpg").read_bytes()
    aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=head + bytes(64 * 1024 * 1024 + 1 - len(head)))
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": key}}}
    event = tmp_path / "huge.json"
    event.write_text(json.dumps({"Records": [record]}))
    before = objects(aws, "photo-outputs")
    assert invoke(lambda_emulator, event) == {"processed": 0, "failed": 1, "skipped": 0}
    [failure] = drain(aws, "failures")
    assert (failure["key"], failure["kind"]) == (key, "limits")
    assert failure["message"] == "input is 67108865 bytes, over the limit of 67108864"
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []
    aws["s3"].delete_object(Bucket="photo-uploads", Key=key)


def test_a_late_event_for_an_upload_replaced_since_makes_the_outputs_of_the_photo_there(aws, lambda_emulator, tmp_path):
    # Two uploads at one key; their events may come late, twice, or in either order.
    key = "uploads/replaced/photo.jpg"
    s3 = aws["s3"]
    first = s3.put_object(Bucket="photo-uploads", Key=key, Body=(PHOTOS / "faces/hopper.jpg").read_bytes())
    second = s3.put_object(Bucket="photo-uploads", Key=key, Body=(PHOTOS / "faces/obama_official_portrait.jpg").read_bytes())

    def event(put) -> str:
        tag = put["ETag"].strip('"')
        record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                  "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": key, "eTag": tag}}}
        path = tmp_path / f"{tag}.json"
        path.write_text(json.dumps({"Records": [record]}))
        return path

    drain(aws, "events")
    drain(aws, "failures")
    # The first upload's event, after the second upload: the outputs are the second photo's.
    assert invoke(lambda_emulator, event(first)) == {"processed": 1, "failed": 0, "skipped": 0}
    outputs = {k: v for k, v in objects(aws, "photo-outputs").items() if "/replaced/" in k}
    analysis = json.loads(outputs["analysis/replaced/photo.jpg.json"])
    assert (analysis["width"], analysis["height"]) == Image.open(PHOTOS / "faces/obama_official_portrait.jpg").size
    assert [m["key"] for m in drain(aws, "events")] == [key]
    # The second upload's event, and the first one's again: the same keys and bytes.
    for put in (second, first):
        assert invoke(lambda_emulator, event(put)) == {"processed": 1, "failed": 0, "skipped": 0}
        assert {k: v for k, v in objects(aws, "photo-outputs").items() if "/replaced/" in k} == outputs
    assert [m["key"] for m in drain(aws, "events")] == [key, key]
    assert drain(aws, "failures") == []


def test_an_upload_archived_to_glacier_is_reported_once_not_retried(aws, lambda_emulator, tmp_path):
    # S3 tells of the object (HeadObject) but will not give it (GetObject: InvalidObjectState).
    key = "uploads/archived/photo.jpg"
    aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=(PHOTOS / "faces/hopper.jpg").read_bytes(), StorageClass="GLACIER")
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": key}}}
    event = tmp_path / "archived.json"
    event.write_text(json.dumps({"Records": [record]}))
    drain(aws, "events")
    drain(aws, "failures")
    before = objects(aws, "photo-outputs")
    assert invoke(lambda_emulator, event) == {"processed": 0, "failed": 1, "skipped": 0}
    [failure] = drain(aws, "failures")
    assert (failure["key"], failure["kind"]) == (key, "input")
    assert "InvalidObjectState" in failure["message"]
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []


def test_a_record_for_another_bucket_is_refused_and_nothing_is_read(aws, lambda_emulator):
    aws["s3"].create_bucket(Bucket="someone-elses-bucket")
    aws["s3"].put_object(Bucket="someone-elses-bucket", Key="uploads/payroll/2026.jpg", Body=(PHOTOS / "faces/hopper.jpg").read_bytes())
    before = objects(aws, "photo-outputs")
    assert invoke(lambda_emulator, "hostile-other-bucket.json") == {"processed": 0, "failed": 1, "skipped": 0}
    [failure] = drain(aws, "failures")
    assert (failure["bucket"], failure["kind"]) == ("someone-elses-bucket", "wrong_bucket")
    assert "photo-uploads" in failure["message"]
    assert "etag" not in failure, "nothing was read"
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []


def test_a_missing_setting_is_a_clear_error_not_a_panic():
    binary = REPO / "target" / "release" / "ingest"
    env = {k: v for k, v in os.environ.items() if k not in ("OUTPUT_BUCKET", "EVENTS_TOPIC_ARN", "FAILURES_TOPIC_ARN")}
    result = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "environment variable OUTPUT_BUCKET is required" in result.stderr + result.stdout
    assert "panicked" not in result.stderr


def test_an_s3_event_delivered_through_sns_is_processed(aws, lambda_emulator):
    assert invoke(lambda_emulator, "sns-s3-put.json") == {"processed": 1, "failed": 0, "skipped": 0}
    assert len(renditions_of(objects(aws, "photo-outputs"), "faces/two people.jpg")) == 3
    assert [m["key"] for m in drain(aws, "events")] == ["uploads/faces/two people.jpg"]


def test_a_malformed_event_fails_the_invocation_and_writes_nothing(aws, lambda_emulator):
    before = objects(aws, "photo-outputs")
    result = subprocess.run(
        ["cargo", "lambda", "invoke", "ingest", "-P", str(lambda_emulator["port"]),
         "--data-file", str(REPO / "events" / "hostile-not-s3.json")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert "malformed event" in result.stdout + result.stderr
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == [] and drain(aws, "failures") == []


def test_each_invocation_logs_its_metrics_in_embedded_metric_format(lambda_emulator):
    docs = []
    for line in lambda_emulator["log"].read_text().splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    assert docs, "no EMF line in the function's output"
    names = {m["Name"] for m in docs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"PhotosProcessed", "PhotosFailed", "BytesIn", "ProcessMs"} <= names
    assert sum(d["PhotosProcessed"] for d in docs) >= 1
    assert sum(d["PhotosFailed"] for d in docs) >= 1
