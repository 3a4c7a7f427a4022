//! End-to-end tests of `photo-suite layout` and `photo-suite render` on a folder that
//! `photo-suite ingest` wrote from real photos of the corpus.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use test_support::photos_dir;

/// Photos of `faces/` (nine, two of them the same portrait stored turned, so near duplicates).
fn ingested(name: &str) -> std::path::PathBuf {
    let out = scratch(name);
    let run = ingest(&photos_dir().join("faces"), &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

fn run(args: &[&str]) -> (i32, Vec<Value>, Vec<Value>) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    let output = photo_suite(&args);
    let lines = |bytes: &[u8]| -> Vec<Value> {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).expect("a JSON message"))
            .collect()
    };
    (
        output.status.code().expect("exit code"),
        lines(&output.stdout),
        lines(&output.stderr),
    )
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).expect("json")).expect("write request");
    path.to_string_lossy().into_owned()
}

const KEYS: [&str; 9] = [
    "astronaut_eileen_collins.png",
    "craft_beer_24mp.jpg",
    "curie_portrait.jpg",
    "curie_portrait_orientation6.jpg",
    "hawking_obama_white_house.jpg",
    "hopper.jpg",
    "obama_official_portrait.jpg",
    "solvay_conference_1927.jpg",
    "two_people_obama_biden.jpg",
];

/// SHA-256 of the file at `path`, as `sha256sum` (coreutils) prints it.
fn sha256sum(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

fn book_request(request_id: &str, photos: &[&str]) -> Value {
    json!({"type": "layout.requested", "request_id": request_id, "book_id": "book-1",
           "photos": photos,
           "surfaces": [
             {"surface_number": 2, "page": {"width": 4800, "height": 2400, "dpi": 300},
              "slots": [{"x": 0, "y": 0, "w": 1600, "h": 2400}, {"x": 1600, "y": 0, "w": 3200, "h": 2400}]},
             {"surface_number": 1, "page": {"width": 2400, "height": 2400, "dpi": 300},
              "slots": [{"x": 0, "y": 0, "w": 2400, "h": 2400}]}]})
}

#[test]
fn layout_reads_what_ingest_wrote_and_stores_the_same_bytes_twice() {
    let out = ingested("book-layout");
    let request = write(&out, "book.json", &book_request("req-1", &KEYS));
    let store = out.to_string_lossy().into_owned();
    let (code, ready, failed) = run(&["layout", &request, "--store", &store]);
    assert_eq!((code, failed.len()), (0, 0), "{failed:?}");
    assert_eq!(ready[0]["type"], "layout.ready");
    assert_eq!(ready[0]["layout_key"], "layouts/book-1/req-1.json");
    assert_eq!(
        (ready[0]["selected"].as_u64(), ready[0]["filled"].as_u64()),
        (Some(3), Some(3))
    );
    let path = out.join("layouts/book-1/req-1.json");
    let first = std::fs::read(&path).expect("layout stored");
    let layout: Value = serde_json::from_slice(&first).expect("JSON");
    assert_eq!(layout["version"], 1);
    // The two Curie photos are one duplicate group; the surfaces come in surface_number order.
    let photo = |k: &str| {
        layout["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .find(|p| p["key"] == k)
            .cloned()
            .expect("listed")
    };
    let (a, b) = (
        photo("curie_portrait.jpg"),
        photo("curie_portrait_orientation6.jpg"),
    );
    assert!(a["duplicate_group"].is_u64() && a["duplicate_group"] == b["duplicate_group"]);
    // Each photo names the file its analysis was made from, for render requests to name.
    for key in KEYS {
        let file = photos_dir().join("faces").join(key);
        assert_eq!(photo(key)["sha256"], sha256sum(&file), "{key}");
    }
    let numbers: Vec<u64> = layout["surfaces"]
        .as_array()
        .expect("surfaces")
        .iter()
        .filter_map(|s| s["surface_number"].as_u64())
        .collect();
    assert_eq!(numbers, vec![1, 2]);
    // Each placement lies in its photo's analysed size.
    for slot in layout["surfaces"]
        .as_array()
        .expect("surfaces")
        .iter()
        .flat_map(|s| s["slots"].as_array().expect("slots"))
    {
        let key = slot["photo"].as_str().expect("filled");
        let analysis: Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("analysis/{key}.json"))).expect("analysis"),
        )
        .expect("JSON");
        let p = &slot["placement"];
        let right = p["x"].as_u64().expect("x") + p["width"].as_u64().expect("width");
        let bottom = p["y"].as_u64().expect("y") + p["height"].as_u64().expect("height");
        assert!(
            right <= analysis["width"].as_u64().expect("w")
                && bottom <= analysis["height"].as_u64().expect("h")
        );
    }
    let (code, _, _) = run(&["layout", &request, "--store", &store]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(&path).expect("still there"),
        first,
        "idempotent"
    );
    // Delivered again once a photo's analysis is gone: refused, and the earlier layout goes.
    std::fs::remove_file(out.join(format!("analysis/{}.json", KEYS[0]))).expect("analysis");
    let (code, _, failed) = run(&["layout", &request, "--store", &store]);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("unknown_photo"))
    );
    assert!(!path.exists(), "the earlier layout is withdrawn");
}

#[test]
fn refused_requests_exit_2_with_the_failure_and_store_nothing() {
    let out = ingested("book-refused");
    let store = out.to_string_lossy().into_owned();
    let unknown = write(
        &out,
        "unknown.json",
        &book_request("req-2", &["hopper.jpg", "nope.jpg"]),
    );
    let (code, ready, failed) = run(&["layout", &unknown, "--store", &store]);
    assert_eq!((code, ready.len()), (2, 0));
    assert_eq!(failed[0]["type"], "layout.failed");
    assert_eq!(failed[0]["kind"], "unknown_photo");
    assert!(!out.join("layouts").exists());
    // A key whose analysis key would be over S3's 1,024 bytes was never ingested: unknown too.
    let long = format!("{}.jpg", "k".repeat(1011));
    let long = write(
        &out,
        "long.json",
        &book_request("req-4", &["hopper.jpg", &long]),
    );
    let (code, _, failed) = run(&["layout", &long, "--store", &store]);
    assert_eq!(code, 2);
    assert_eq!(failed[0]["kind"], "unknown_photo", "{}", failed[0]);
    let mut bad = book_request("req-3", &["hopper.jpg"]);
    bad["surfaces"][0]["slots"][0]["h"] = json!(-5);
    let bad = write(&out, "bad.json", &bad);
    let (code, _, failed) = run(&["layout", &bad, "--store", &store]);
    assert_eq!(code, 2);
    assert_eq!(failed[0]["kind"], "malformed_request");
    assert!(failed[0]["message"]
        .as_str()
        .expect("text")
        .contains("slots[0]"));
    let not_json = write(&out, "garbage.json", &json!("{not a request"));
    let (code, _, failed) = run(&["layout", &not_json, "--store", &store]);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("malformed_request"))
    );
}

#[test]
fn render_cuts_the_placement_from_the_original_at_the_requested_size() {
    let out = scratch("book-render");
    let store = out.to_string_lossy().into_owned();
    let faces = photos_dir().join("faces");
    let faces = faces.to_string_lossy().into_owned();
    // `photo-suite render` of the request file at `path`, the photos read from `photos`.
    let render =
        |path: &str, photos: &str| run(&["render", path, "--photos", photos, "--store", &store]);
    // curie_portrait_orientation6.jpg is stored turned: the placement is in upright pixels.
    let analysis = {
        let turned = photos_dir().join("faces/curie_portrait_orientation6.jpg");
        let output = photo_suite(&["analyze".as_ref(), turned.as_os_str()]);
        serde_json::from_slice::<Value>(&output.stdout).expect("analysis JSON")
    };
    let (w, h) = (
        analysis["width"].as_u64().expect("w") as u32,
        analysis["height"].as_u64().expect("h") as u32,
    );
    let request = json!({"type": "render.requested", "request_id": "print-1",
                         "photo": "curie_portrait_orientation6.jpg",
                         "placement": {"x": 0, "y": 0, "width": w, "height": h / 2, "rot": 90},
                         "width": 600, "height": (600 * w / (h / 2)), "format": "png"});
    let path = write(&out, "print.json", &request);
    let (code, done, failed) = render(&path, &faces);
    assert_eq!((code, failed.len()), (0, 0), "{failed:?}");
    let key = done[0]["render_key"].as_str().expect("key").to_string();
    let source = photos_dir().join("faces/curie_portrait_orientation6.jpg");
    assert_eq!(done[0]["sha256"], sha256sum(&source));
    assert!(
        key.starts_with("renders/curie_portrait_orientation6.jpg/") && key.ends_with(".png"),
        "{key}"
    );
    let rendered = image::open(out.join(&key)).expect("a PNG").to_rgb8();
    let (out_w, out_h) = rendered.dimensions();
    assert_eq!((out_w, out_h), (600, 600 * w / (h / 2)));
    // Compare with the upright original's top half, turned 90° clockwise, by an independent
    // decoder: the top of the portrait must land on the right of the print.
    let original = image::open(photos_dir().join("faces/curie_portrait.jpg"))
        .expect("decodes")
        .to_rgb8();
    let top = image::imageops::crop_imm(&original, 0, 0, original.width(), original.height() / 2)
        .to_image();
    let expected = image::imageops::rotate90(&image::imageops::resize(
        &top,
        out_h,
        out_w,
        image::imageops::FilterType::Lanczos3,
    ));
    let small = |im: &image::RgbImage| {
        image::imageops::resize(im, 8, 8, image::imageops::FilterType::Triangle)
    };
    let worst = small(&rendered)
        .as_raw()
        .iter()
        .zip(small(&expected).as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .expect("pixels");
    assert!(
        worst <= 24,
        "render differs from the turned top half by {worst} levels"
    );

    // Delivered again once the original is gone: refused, and the earlier file goes too.
    let empty = out.join("no-photos");
    std::fs::create_dir_all(&empty).expect("folder");
    let empty = empty.to_string_lossy().into_owned();
    let (code, _, failed) = render(&path, &empty);
    assert_eq!((code, failed[0]["kind"].as_str()), (2, Some("not_found")));
    assert!(!out.join(&key).exists(), "the earlier render is withdrawn");

    // A request naming the SHA-256 of another file than the one at the key: refused, and the
    // file of the request that named none (the same placement) stays.
    let (code, _, _) = render(&path, &faces);
    assert_eq!(code, 0);
    let mut changed = request.clone();
    let curie = sha256sum(&photos_dir().join("faces/curie_portrait.jpg"));
    changed["sha256"] = json!(curie);
    let changed_path = write(&out, "changed.json", &changed);
    let (code, done, failed) = render(&changed_path, &faces);
    assert_eq!((code, done.len()), (2, 0));
    assert_eq!(failed[0]["kind"], "photo_changed", "{failed:?}");
    assert!(out.join(&key).is_file(), "another request's file stays");
    // Naming the photo that is there: its own file, named by it.
    changed["sha256"] = json!(sha256sum(&source));
    let changed_path = write(&out, "named.json", &changed);
    let (code, done, _) = render(&changed_path, &faces);
    assert_eq!(code, 0);
    let named = done[0]["render_key"].as_str().expect("key");
    let short = &sha256sum(&source)[..16];
    assert!(named.ends_with(&format!("-s{short}.png")), "{named}");
    assert_eq!(
        std::fs::read(out.join(named)).ok(),
        std::fs::read(out.join(&key)).ok()
    );

    let mut outside = request.clone();
    outside["placement"]["y"] = json!(h);
    let path = write(&out, "outside.json", &outside);
    let (code, _, failed) = render(&path, &faces);
    assert_eq!((code, failed[0]["kind"].as_str()), (2, Some("parameter")));
}

#[test]
fn requests_refused_on_a_later_delivery_withdraw_and_misspelt_fields_are_refused() {
    let out = ingested("book-withdraw");
    let store = out.to_string_lossy().into_owned();
    let faces = photos_dir().join("faces");
    let faces = faces.to_string_lossy().into_owned();
    let layout = |name: &str, request: &Value| {
        let path = write(&out, name, request);
        run(&["layout", &path, "--store", &store])
    };
    let stored = out.join("layouts/book-1/req-w.json");

    // Laid out, then delivered again malformed (its ids readable): the layout is withdrawn.
    let request = book_request("req-w", &["hopper.jpg", "curie_portrait.jpg"]);
    let (code, _, failed) = layout("ok.json", &request);
    assert_eq!((code, failed.len()), (0, 0), "{failed:?}");
    assert!(stored.is_file());
    let mut malformed = request.clone();
    malformed["surfaces"][0]["page"]["dpi"] = json!(0);
    let (code, _, failed) = layout("dpi0.json", &malformed);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("malformed_request"))
    );
    assert!(!stored.exists(), "the earlier layout is withdrawn");

    // A misspelt optional field is refused, not passed over (here the settings).
    let mut misspelt = request.clone();
    misspelt["setings"] = json!({"dpi_good": 1000});
    let (code, _, failed) = layout("misspelt.json", &misspelt);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("malformed_request"))
    );
    let message = failed[0]["message"].as_str().expect("text");
    assert!(message.contains("setings"), "{message}");

    // A key with a part longer than a file name can be: no such photo, not a bad analysis.
    let long = format!("{}.jpg", "c".repeat(300));
    let (code, _, failed) = layout(
        "long-part.json",
        &book_request("req-l", &["hopper.jpg", &long]),
    );
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("unknown_photo"))
    );

    // Over 256 KB of valid UTF-8, cut by the read inside a character: too large, with its size.
    let mut big = request.clone();
    big["book_id"] = json!("é".repeat(200_000));
    let path = write(&out, "big.json", &big);
    let size = std::fs::metadata(&path).expect("written").len();
    let (code, _, failed) = run(&["layout", &path, "--store", &store]);
    assert_eq!((code, failed[0]["kind"].as_str()), (2, Some("too_large")));
    let message = failed[0]["message"].as_str().expect("text");
    assert!(message.contains(&format!("{size} bytes")), "{message}");

    // Bytes that are not UTF-8: a malformed request, refused on the failures topic.
    let mut raw = serde_json::to_vec(&request).expect("JSON");
    let last = raw.len() - 2;
    raw[last] = 0xFF;
    let path = out.join("raw.json");
    std::fs::write(&path, &raw).expect("written");
    let (code, _, failed) = run(&["layout", path.to_str().expect("UTF-8"), "--store", &store]);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("malformed_request"))
    );
    let message = failed[0]["message"].as_str().expect("text");
    assert!(message.contains("not UTF-8"), "{message}");

    // A render stored, then refused under lower limits: the file is withdrawn.
    let render = |name: &str, request: &Value, extra: &[&str]| {
        let path = write(&out, name, request);
        let mut args = vec!["render", &path, "--photos", &faces, "--store", &store];
        args.extend_from_slice(extra);
        run(&args)
    };
    let print = json!({"type": "render.requested", "request_id": "print-w",
                       "photo": "hopper.jpg",
                       "placement": {"x": 0, "y": 0, "width": 100, "height": 100},
                       "width": 1200, "height": 1200});
    let (code, done, failed) = render("print.json", &print, &[]);
    assert_eq!((code, failed.len()), (0, 0), "{failed:?}");
    let key = out.join(done[0]["render_key"].as_str().expect("key"));
    assert!(key.is_file());
    let (code, _, failed) = render("print.json", &print, &["--max-pixels", "1000000"]);
    assert_eq!((code, failed[0]["kind"].as_str()), (2, Some("limits")));
    assert!(!key.exists(), "the earlier render is withdrawn");
    // `sha` for `sha256`: refused rather than rendered without the check.
    let mut misspelt = print.clone();
    misspelt["sha"] = json!("0".repeat(64));
    let (code, _, failed) = render("sha.json", &misspelt, &[]);
    assert_eq!(
        (code, failed[0]["kind"].as_str()),
        (2, Some("malformed_request"))
    );
    // No photo can have a name over the file system's bound.
    let mut long_photo = print.clone();
    long_photo["photo"] = json!(long);
    let (code, _, failed) = render("long.json", &long_photo, &[]);
    assert_eq!((code, failed[0]["kind"].as_str()), (2, Some("not_found")));
}
