//! `report.html` opened in headless Chromium (Debian's `chromium`, installed by
//! `scripts/test-tools.sh`; `$CHROMIUM` names another binary): every analysed photo renders.

mod common;

use common::{ingest, scratch};
use std::path::Path;
use std::process::Command;
use test_support::photos_dir;

/// The DOM of `page` after its load event, as headless Chromium sees it.
fn rendered_dom(page: &Path, profile: &Path) -> String {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let output = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("running {chromium} ({e}); scripts/test-tools.sh installs Debian's chromium")
        });
    assert!(output.status.success(), "{chromium} failed: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 DOM")
}

/// The value of `name="..."` in the first `<body ...>` tag of `dom`.
fn body_attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let value = &tag[tag.find(&format!("{name}=\""))? + name.len() + 2..];
    Some(&value[..value.find('"')?])
}

#[test]
fn the_report_renders_every_photo_in_headless_chromium() {
    let input = scratch("report-in");
    let mut copied = 0;
    for folder in ["faces", "exif-orientation", "formats"] {
        std::fs::create_dir_all(input.join(folder)).expect("folder");
        for entry in std::fs::read_dir(photos_dir().join(folder)).expect("corpus folder") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_owned();
            std::fs::copy(&path, input.join(folder).join(name)).expect("copy");
            copied += 1;
        }
    }
    // A key that must be escaped in HTML and in URLs, and a file that fails.
    let hostile = "odd <b>name & \"quotes\" #1 ?é.jpg";
    std::fs::copy(photos_dir().join("faces/hopper.jpg"), input.join(hostile)).expect("copy");
    std::fs::write(input.join("not a photo.jpg"), b"<html>no</html>").expect("write");

    let out = scratch("report-out");
    let result = ingest(&input, &out);
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    let events = std::fs::read_to_string(out.join("events.jsonl")).expect("events");
    let analysed = events.lines().count();
    assert!(analysed >= copied - 5, "{analysed} of {copied} analysed");

    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(!report.contains("<b>name"), "keys are escaped");
    assert!(
        !report.contains("http://") && !report.contains("https://"),
        "self-contained: no network addresses"
    );
    assert_eq!(report.matches("<figure class=\"photo\"").count(), analysed);
    assert!(report.contains("not a photo.jpg"), "the failure is listed");

    let dom = rendered_dom(
        &out.join("report.html"),
        &scratch("report-chromium-profile"),
    );
    let count = |name| {
        body_attribute(&dom, name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("body has no {name} count: the page script did not run"))
    };
    assert_eq!(count("data-images"), analysed);
    assert_eq!(
        count("data-loaded"),
        analysed,
        "thumbnails that did not load: {:?}",
        body_attribute(&dom, "data-broken")
    );
    assert!(
        dom.contains("odd &lt;b&gt;name &amp;"),
        "the hostile key is shown as text"
    );
}
