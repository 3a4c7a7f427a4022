"""End to end: the book-layout service's requests travel over SNS (moto), reach the `layout` and
`render` functions under cargo-lambda's emulator as SNS events, and the results are checked in
S3 and on the topics."""

import hashlib
import io
import json

import pytest
from PIL import Image

from conftest import PHOTOS, REPO, drain, invoke, objects

# The photos of the sample book (events/sns-layout-requested.json), and what is uploaded there.
BOOK = {
    "uploads/book/pixel.jpg": "camera/pixel_IMG_20180725_163423.jpg",
    "uploads/book/canon 40d.jpg": "camera/canon_40d_Canon_40D.jpg",
    "uploads/book/nokia.jpg": "camera/nokia83_HMD_Nokia_8.3_5G.jpg",
    "uploads/book/curie.jpg": "faces/curie_portrait.jpg",
    "uploads/book/curie turned.jpg": "faces/curie_portrait_orientation6.jpg",
    "uploads/book/two people.jpg": "faces/two_people_obama_biden.jpg",
    "uploads/book/obama.jpg": "faces/obama_official_portrait.jpg",
}


def sample_request(name: str) -> dict:
    return json.loads(json.loads((REPO / "events" / name).read_text())["Records"][0]["Sns"]["Message"])


def deliver(aws, tmp_path, emulator, request: dict) -> dict:
    """Publishes `request` on the requests topic, takes the notification SNS delivered (through
    the topic's SQS subscription), and invokes the function with it as the SNS event Lambda
    would receive."""
    aws["sns"].publish(
        TopicArn=aws["topics"]["requests"],
        Message=json.dumps(request),
        MessageAttributes={"type": {"DataType": "String", "StringValue": request.get("type", "?")}},
    )
    got = aws["sqs"].receive_message(QueueUrl=aws["queues"]["requests"], MaxNumberOfMessages=1, WaitTimeSeconds=5)
    [sqs_message] = got["Messages"]
    aws["sqs"].delete_message(QueueUrl=aws["queues"]["requests"], ReceiptHandle=sqs_message["ReceiptHandle"])
    notification = json.loads(sqs_message["Body"])
    assert json.loads(notification["Message"]) == request
    event = {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": notification["TopicArn"] + ":subscription",
        "Sns": {k: notification.get(k) for k in ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL")} | {"MessageAttributes": {}},
    }]}
    path = tmp_path / f"event-{request.get('request_id', 'none')}.json"
    path.write_text(json.dumps(event))
    return invoke(emulator, path)


@pytest.fixture(scope="module")
def ingested(aws, lambda_emulator, tmp_path_factory):
    """The book's photos uploaded and ingested (one S3 event with a record per photo)."""
    records = []
    for key, photo in BOOK.items():
        aws["s3"].put_object(Bucket="photo-uploads", Key=key, Body=(PHOTOS / photo).read_bytes())
        encoded = key.replace(" ", "+")
        records.append({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": encoded}}})
    path = tmp_path_factory.mktemp("book") / "uploads.json"
    path.write_text(json.dumps({"Records": records}))
    assert invoke(lambda_emulator, path) == {"processed": len(BOOK), "failed": 0, "skipped": 0}
    for queue in ("events", "failures", "requests"):
        drain(aws, queue)
    return {key: json.loads(objects(aws, "photo-outputs")[f"analysis/{key.removeprefix('uploads/')}.json"]) for key in BOOK}


def test_a_book_request_over_sns_gives_the_stored_layout_and_layout_ready(aws, ingested, layout_emulator, tmp_path):
    request = sample_request("sns-layout-requested.json")
    response = deliver(aws, tmp_path, layout_emulator, request)
    key = "layouts/book-summer/req-2026-11-27-001.json"
    assert response == {"ready": [key], "failed": 0}
    [ready] = drain(aws, "events")
    assert ready["type"] == "layout.ready" and ready["layout_key"] == key
    assert (ready["photos"], ready["slots"], ready["filled"]) == (7, 4, 4)
    assert drain(aws, "failures") == []

    stored = objects(aws, "photo-outputs")[key]
    layout = json.loads(stored)
    photos = {p["key"]: p for p in layout["photos"]}
    assert set(photos) == set(BOOK)
    # Each photo names the file its analysis was made from, for render requests to name.
    for upload, photo in photos.items():
        assert photo["sha256"] == hashlib.sha256((PHOTOS / BOOK[upload]).read_bytes()).hexdigest()
    # The two Curie photos (one stored turned, same picture) are near duplicates: one group, and
    # with six distinct photos for four slots, never both selected.
    curie, turned = photos["uploads/book/curie.jpg"], photos["uploads/book/curie turned.jpg"]
    assert curie["duplicate_group"] is not None and curie["duplicate_group"] == turned["duplicate_group"]
    assert not (curie["selected"] and turned["selected"])
    assert sum(p["selected"] for p in photos.values()) == 4
    assert sorted(p["rank"] for p in photos.values()) == list(range(1, 8))
    assert sorted(p["sequence"] for p in photos.values()) == list(range(1, 8))
    # Dated photos come first, in capture order; 2008, 2018 and 2022 are three events.
    dated = sorted((p["sequence"], p["taken_at"], p["event"]) for p in photos.values() if p["taken_at"])
    assert [t for _, t, _ in dated] == sorted(t for _, t, _ in dated)
    assert len({e for _, _, e in dated}) == len(dated)

    page_dpi = {s["surface_number"]: s["page"]["dpi"] for s in request["surfaces"]}
    slots = {(s["surface_number"], i): slot for s in request["surfaces"] for i, slot in enumerate(s["slots"])}
    for surface in layout["surfaces"]:
        for filled in surface["slots"]:
            slot = slots[(surface["surface_number"], filled["slot"])]
            analysis = ingested[filled["photo"]]
            p = filled["placement"]
            assert p["x"] + p["width"] <= analysis["width"] and p["y"] + p["height"] <= analysis["height"]
            ratio, slot_ratio = p["width"] / p["height"], slot["w"] / slot["h"]
            assert max(ratio, slot_ratio) / min(ratio, slot_ratio) - 1 <= 0.005
            assert p["rot"] == slot["rot"]
            dpi = p["width"] / (slot["w"] / page_dpi[surface["surface_number"]])
            assert abs(filled["effective_dpi"] - dpi) <= 0.05
            expected = "good" if dpi >= 250 else "fair" if dpi >= 150 else "low"
            assert filled["print_quality"] == expected
            for face in analysis["faces"]:
                inside = (p["x"] <= face["x"] and p["y"] <= face["y"] and face["x"] + face["width"] <= p["x"] + p["width"]
                          and face["y"] + face["height"] <= p["y"] + p["height"])
                assert inside or not filled["faces_kept"]

    # At-least-once delivery: the same request again stores the same bytes.
    assert deliver(aws, tmp_path, layout_emulator, request) == {"ready": [key], "failed": 0}
    assert objects(aws, "photo-outputs")[key] == stored
    drain(aws, "events")


def test_a_request_naming_a_photo_never_ingested_fails_on_the_failure_topic(aws, ingested, layout_emulator, tmp_path):
    request = sample_request("sns-layout-requested.json") | {"request_id": "req-unknown"}
    request["photos"] = request["photos"] + ["uploads/book/never uploaded.jpg"]
    before = objects(aws, "photo-outputs")
    assert deliver(aws, tmp_path, layout_emulator, request) == {"ready": [], "failed": 1}
    [failure] = drain(aws, "failures")
    assert (failure["type"], failure["kind"], failure["request_id"]) == ("layout.failed", "unknown_photo", "req-unknown")
    assert "never uploaded.jpg" in failure["message"]
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []


def test_a_malformed_request_fails_with_the_field_named(aws, layout_emulator, tmp_path):
    request = {"type": "layout.requested", "request_id": "req-bad", "book_id": "../../etc", "photos": ["a.jpg"], "surfaces": []}
    assert deliver(aws, tmp_path, layout_emulator, request) == {"ready": [], "failed": 1}
    [failure] = drain(aws, "failures")
    assert (failure["kind"], failure["request_id"]) == ("malformed_request", "req-bad")
    assert "book_id" in failure["message"]


def test_a_render_request_gives_the_print_file_and_render_done(aws, ingested, render_emulator, tmp_path):
    request = sample_request("sns-render-requested.json")
    response = deliver(aws, tmp_path, render_emulator, request)
    # Named by the placement, the output and the photo the request names (its sha256).
    key = "renders/book/pixel.jpg/3036x3036+506+0-r0-2100x2100-q92-s" + request["sha256"][:16] + ".jpg"
    assert response == {"done": [key], "failed": 0}
    [done] = drain(aws, "events")
    assert (done["type"], done["render_key"], done["width"], done["height"]) == ("render.done", key, 2100, 2100)
    original = (PHOTOS / BOOK[request["photo"]]).read_bytes()
    assert done["sha256"] == request["sha256"] == hashlib.sha256(original).hexdigest()
    jpeg = objects(aws, "photo-outputs")[key]
    image = Image.open(io.BytesIO(jpeg))
    assert (image.format, image.size, image.mode) == ("JPEG", (2100, 2100), "RGB")
    assert image.info.get("icc_profile"), "print files carry their sRGB profile"
    # The render is the placement of the original: compare with Pillow's own crop and resize.
    original = Image.open(PHOTOS / BOOK[request["photo"]]).convert("RGB")
    p = request["placement"]
    expected = original.crop((p["x"], p["y"], p["x"] + p["width"], p["y"] + p["height"])).resize((2100, 2100), Image.LANCZOS)
    small = lambda im: im.resize((16, 16), Image.BOX).tobytes()
    worst = max(abs(a - b) for a, b in zip(small(image), small(expected)))
    assert worst <= 12, f"render differs from the placement by {worst} levels"
    # Repeated: same key, same bytes.
    assert deliver(aws, tmp_path, render_emulator, request) == {"done": [key], "failed": 0}
    assert objects(aws, "photo-outputs")[key] == jpeg
    drain(aws, "events")


def test_a_wrong_ratio_is_refused_before_the_read_and_a_name_that_lies_is_refused(aws, ingested, render_emulator, tmp_path):
    before = objects(aws, "photo-outputs")
    # No such upload: refused for its ratio, so the original was never asked for.
    skewed = sample_request("sns-render-requested.json") | {
        "request_id": "render-skewed", "photo": "uploads/book/never-uploaded.jpg", "width": 2100, "height": 1000}
    assert deliver(aws, tmp_path, render_emulator, skewed) == {"done": [], "failed": 1}
    # PNG bytes under a .jpg name, as ingest refuses them.
    aws["s3"].put_object(Bucket="photo-uploads", Key="uploads/book/disguised.jpg",
                         Body=(PHOTOS / "broken/png_data_with_jpg_extension.jpg").read_bytes())
    disguised = sample_request("sns-render-requested.json") | {
        "request_id": "render-disguised", "photo": "uploads/book/disguised.jpg",
        "placement": {"x": 0, "y": 0, "width": 100, "height": 100, "rot": 0}, "width": 100, "height": 100}
    assert deliver(aws, tmp_path, render_emulator, disguised) == {"done": [], "failed": 1}
    failures = {f["request_id"]: f for f in drain(aws, "failures")}
    assert failures["render-skewed"]["kind"] == "parameter" and "ratio" in failures["render-skewed"]["message"]
    assert failures["render-disguised"]["kind"] == "format_mismatch"
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []


def test_a_render_naming_another_file_s_sha256_is_refused_and_the_earlier_file_withdrawn(aws, ingested, render_emulator, tmp_path):
    # The photo at the key is replaced after its layout: a request naming the layout's SHA-256
    # is refused rather than cut where the old photo's placement says.
    small = {"placement": {"x": 0, "y": 0, "width": 100, "height": 100, "rot": 0}, "width": 100, "height": 100}
    request = sample_request("sns-render-requested.json") | small | {
        "request_id": "render-replaced", "photo": "uploads/book/replaced.jpg"}
    key = "renders/book/replaced.jpg/100x100+0+0-r0-100x100-q92-s" + request["sha256"][:16] + ".jpg"
    aws["s3"].put_object(Bucket="photo-uploads", Key="uploads/book/replaced.jpg",
                         Body=(PHOTOS / "camera/pixel_IMG_20180725_163423.jpg").read_bytes())
    assert deliver(aws, tmp_path, render_emulator, request) == {"done": [key], "failed": 0}
    assert key in objects(aws, "photo-outputs")
    aws["s3"].put_object(Bucket="photo-uploads", Key="uploads/book/replaced.jpg",
                         Body=(PHOTOS / "faces/obama_official_portrait.jpg").read_bytes())
    assert deliver(aws, tmp_path, render_emulator, request) == {"done": [], "failed": 1}
    [failure] = drain(aws, "failures")
    assert (failure["request_id"], failure["kind"]) == ("render-replaced", "photo_changed")
    assert hashlib.sha256((PHOTOS / "faces/obama_official_portrait.jpg").read_bytes()).hexdigest() in failure["message"]
    assert key not in objects(aws, "photo-outputs")
    drain(aws, "events")


def test_a_crop_outside_the_photo_or_an_oversized_output_is_refused(aws, ingested, render_emulator, tmp_path):
    before = objects(aws, "photo-outputs")
    outside = sample_request("sns-render-requested.json") | {"request_id": "render-outside"}
    outside["placement"] = outside["placement"] | {"x": 2000}
    assert deliver(aws, tmp_path, render_emulator, outside) == {"done": [], "failed": 1}
    huge = sample_request("sns-render-requested.json") | {"request_id": "render-huge", "width": 60000, "height": 60000}
    assert deliver(aws, tmp_path, render_emulator, huge) == {"done": [], "failed": 1}
    failures = {f["request_id"]: f for f in drain(aws, "failures")}
    assert failures["render-outside"]["kind"] == "parameter" and "leaves" in failures["render-outside"]["message"]
    assert failures["render-huge"]["kind"] == "limits"
    assert objects(aws, "photo-outputs") == before
    assert drain(aws, "events") == []
