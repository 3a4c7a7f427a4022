//! `OUT_DIR/report.html`: a self-contained contact sheet of an ingest run.
//!
//! Built from the run's two topic files (`events.jsonl`, `failures.jsonl`), the same messages the
//! book-layout service receives: each photo's smallest rendition of at least 256 px (linked
//! relatively, beside the report), with its face boxes, region of interest, focal point and the
//! crop of each ratio drawn over it, its scores, and its near-duplicate group. No script or
//! style comes from the network; a small inline script counts the thumbnails that loaded into
//! `data-*` attributes of `<body>`, which the browser test reads. The output is deterministic.

use anyhow::Context;
use imaging_core::analysis::signature::{near_duplicate_groups, Signature};
use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// The crop ratios drawn, with their outline colours.
const CROP_COLOURS: [(&str, &str); 7] = [
    ("1:1", "#ff4fd8"),
    ("4:3", "#4f9dff"),
    ("3:4", "#00d1a0"),
    ("3:2", "#ffb000"),
    ("2:3", "#b46bff"),
    ("16:9", "#ff5e3a"),
    ("9:16", "#9be15d"),
];

/// Preferred long side of the thumbnail shown.
const THUMBNAIL_SIDE: u64 = 256;

/// One analysed photo, as announced on the events topic.
struct Photo {
    key: String,
    thumbnail: Option<String>,
    summary: Value,
    group: usize,
    group_size: usize,
}

/// One failed photo.
struct Failure {
    key: String,
    kind: String,
    message: String,
}

fn read_messages(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).with_context(|| format!("a line of {}", path.display()))
        })
        .collect()
}

/// The rendition to show: the smallest of at least [`THUMBNAIL_SIDE`], else the largest.
fn thumbnail_key(renditions: &Value) -> Option<String> {
    let list = renditions.as_array()?;
    let side = |r: &Value| {
        r["width"]
            .as_u64()
            .unwrap_or(0)
            .max(r["height"].as_u64().unwrap_or(0))
    };
    list.iter()
        .filter(|r| side(r) >= THUMBNAIL_SIDE)
        .min_by_key(|r| side(r))
        .or_else(|| list.iter().max_by_key(|r| side(r)))
        .and_then(|r| r["key"].as_str())
        .map(str::to_string)
}

/// Writes `out_dir/report.html` from the run's `events.jsonl` and `failures.jsonl`.
pub fn write_report(out_dir: &Path) -> anyhow::Result<()> {
    let events = read_messages(&out_dir.join("events.jsonl"))?;
    let failures = read_messages(&out_dir.join("failures.jsonl"))?;

    let mut photos: Vec<Photo> = events
        .iter()
        .map(|m| Photo {
            key: m["key"].as_str().unwrap_or_default().to_string(),
            thumbnail: thumbnail_key(&m["renditions"]),
            summary: m["summary"].clone(),
            group: 0,
            group_size: 1,
        })
        .collect();
    photos.sort_by(|a, b| a.key.cmp(&b.key));
    // Photos without a readable signature are left out of the grouping (their own group).
    let signed: Vec<(usize, Signature)> = photos
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p.summary["signature"].as_str()?.parse().ok()?)))
        .collect();
    let sigs: Vec<Signature> = signed.iter().map(|(_, s)| *s).collect();
    let groups = near_duplicate_groups(&sigs);
    let mut unsigned_group = groups.iter().max().map_or(0, |g| g + 1);
    for photo in photos.iter_mut() {
        photo.group = usize::MAX;
    }
    for ((i, _), group) in signed.iter().zip(&groups) {
        photos[*i].group = *group;
    }
    for photo in photos.iter_mut().filter(|p| p.group == usize::MAX) {
        photo.group = unsigned_group;
        unsigned_group += 1;
    }
    let sizes: Vec<usize> = (0..unsigned_group)
        .map(|g| photos.iter().filter(|p| p.group == g).count())
        .collect();
    for photo in photos.iter_mut() {
        photo.group_size = sizes[photo.group];
    }

    let mut failures: Vec<Failure> = failures
        .iter()
        .map(|m| Failure {
            key: m["key"].as_str().unwrap_or_default().to_string(),
            kind: m["kind"].as_str().unwrap_or_default().to_string(),
            message: m["message"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    failures.sort_by(|a, b| a.key.cmp(&b.key));

    let html = render(&photos, &failures);
    let path = out_dir.join("report.html");
    let partial = out_dir.join(".report.html.partial");
    fs::write(&partial, html).with_context(|| format!("writing {}", partial.display()))?;
    fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Escapes text for HTML content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative path for a URL (keys may hold spaces, `#`, `?`, unicode).
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An absolutely placed box, in percent of the photo's upright size.
fn placed(class: &str, rect: &Value, width: f64, height: f64, title: &str) -> Option<String> {
    let x = rect["x"].as_f64()?;
    let y = rect["y"].as_f64()?;
    let w = rect["width"].as_f64()?;
    let h = rect["height"].as_f64()?;
    Some(format!(
        "<div class=\"{class}\" title=\"{}\" style=\"left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%\"></div>",
        escape(title),
        100.0 * x / width,
        100.0 * y / height,
        100.0 * w / width,
        100.0 * h / height
    ))
}

fn score(summary: &Value, name: &str) -> String {
    summary["quality"][name]
        .as_f64()
        .map_or_else(|| "–".to_string(), |v| format!("{v:.2}"))
}

fn ratio_id(ratio: &str) -> String {
    ratio.replace(':', "x")
}

fn card(out: &mut String, photo: &Photo) {
    let s = &photo.summary;
    let width = s["width"].as_f64().unwrap_or(1.0).max(1.0);
    let height = s["height"].as_f64().unwrap_or(1.0).max(1.0);
    let key = escape(&photo.key);
    let _ = write!(
        out,
        "<figure class=\"photo\" data-key=\"{key}\" data-group=\"{}\">\n<div class=\"frame\" style=\"aspect-ratio:{width} / {height}\">",
        photo.group
    );
    match &photo.thumbnail {
        Some(thumb) => {
            let _ = write!(
                out,
                "<img src=\"{}\" alt=\"{key}\" loading=\"eager\">",
                escape(&url_path(thumb))
            );
        }
        None => out.push_str("<div class=\"missing\">no rendition</div>"),
    }
    for (ratio, _) in CROP_COLOURS {
        if let Some(div) = placed(
            &format!("crop crop-{}", ratio_id(ratio)),
            &s["crops"][ratio],
            width,
            height,
            &format!("crop {ratio}"),
        ) {
            out.push_str(&div);
        }
    }
    if let Some(div) = placed("roi", &s["roi"], width, height, "region of interest") {
        out.push_str(&div);
    }
    let faces = s["faces"].as_array().map(Vec::as_slice).unwrap_or_default();
    for face in faces {
        let title = format!(
            "face {:.2}",
            face["confidence"].as_f64().unwrap_or_default()
        );
        if let Some(div) = placed("face", face, width, height, &title) {
            out.push_str(&div);
        }
    }
    if let (Some(x), Some(y)) = (
        s["focal_point"]["x"].as_f64(),
        s["focal_point"]["y"].as_f64(),
    ) {
        let _ = write!(
            out,
            "<div class=\"focal\" title=\"focal point\" style=\"left:{:.3}%;top:{:.3}%\"></div>",
            100.0 * (x + 0.5) / width,
            100.0 * (y + 0.5) / height
        );
    }
    out.push_str("</div>\n<figcaption>");
    let _ = write!(out, "<div class=\"key\">{key}</div>");
    let _ = write!(
        out,
        "<div>{width}×{height} · {} · {} face{}</div>",
        escape(s["format"].as_str().unwrap_or("?")),
        faces.len(),
        if faces.len() == 1 { "" } else { "s" }
    );
    let camera: Vec<&str> = [&s["make"], &s["model"], &s["taken_at"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    if !camera.is_empty() {
        let _ = write!(out, "<div>{}</div>", escape(&camera.join(" · ")));
    }
    let _ = write!(
        out,
        "<div class=\"scores\">sharp {} · exp {} · noise {} · <b>overall {}</b></div>",
        score(s, "sharpness"),
        score(s, "exposure"),
        score(s, "noise"),
        score(s, "overall")
    );
    out.push_str("<div class=\"colors\">");
    for c in s["colors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if let Some(hex) = c["hex"].as_str() {
            let hex = escape(hex);
            let _ = write!(
                out,
                "<span style=\"background:{hex};flex-grow:{:.3}\" title=\"{hex}\"></span>",
                c["weight"].as_f64().unwrap_or_default()
            );
        }
    }
    out.push_str("</div>");
    if photo.group_size > 1 {
        let _ = write!(
            out,
            "<div class=\"dup\">near-duplicate group {} ({} photos)</div>",
            photo.group, photo.group_size
        );
    }
    out.push_str("</figcaption>\n</figure>\n");
}

const STYLE: &str = r#"
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; background: #f4f4f4; color: #222; }
h1 { font-size: 20px; margin: 0 0 8px; }
.legend { margin: 8px 0 16px; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
.legend label { cursor: pointer; padding: 1px 4px; border-radius: 3px; }
input.pick { position: absolute; opacity: 0; pointer-events: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px; }
figure.photo { margin: 0; background: #fff; border-radius: 6px; padding: 8px; box-shadow: 0 1px 3px #0002; }
.frame { position: relative; width: 100%; background: #ddd; overflow: hidden; }
.frame img { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.frame > div { position: absolute; box-sizing: border-box; }
.face { border: 2px solid #ffe600; box-shadow: 0 0 0 1px #000a; }
.roi { border: 2px dashed #00e5ff; }
.focal { width: 10px; height: 10px; margin: -5px 0 0 -5px; border-radius: 50%; background: #ff1744; border: 2px solid #fff; }
.crop { display: none; border: 2px solid; }
.missing { inset: 0; display: grid; place-items: center; color: #a00; }
figcaption { margin-top: 6px; }
.key { font-weight: 600; word-break: break-all; }
.scores { color: #444; }
.colors { display: flex; height: 10px; margin-top: 4px; border-radius: 3px; overflow: hidden; }
.dup { color: #b00060; font-weight: 600; }
table { border-collapse: collapse; background: #fff; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
"#;

/// Reports, into `<body>`'s data attributes, how many thumbnails loaded.
const SCRIPT: &str = r#"
window.addEventListener("load", () => {
  const images = Array.from(document.querySelectorAll("figure.photo img"));
  const loaded = images.filter((img) => img.complete && img.naturalWidth > 0);
  document.body.dataset.images = String(images.length);
  document.body.dataset.loaded = String(loaded.length);
  document.body.dataset.broken = images
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.alt)
    .join("\n");
});
"#;

fn render(photos: &[Photo], failures: &[Failure]) -> String {
    let mut out = String::new();
    let groups = photos.iter().filter(|p| p.group_size > 1).count();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>photo-suite report</title>\n<style>");
    out.push_str(STYLE);
    // A rule per ratio shows that ratio's crops when its radio button is checked.
    for (ratio, colour) in CROP_COLOURS {
        let id = ratio_id(ratio);
        let _ = write!(
            out,
            "#show-{id}:checked ~ .grid .crop-{id} {{ display: block; border-color: {colour}; }}\n\
             #show-{id}:checked ~ .legend label[for=show-{id}] {{ outline: 2px solid {colour}; }}\n\
             .swatch-{id} {{ background: {colour}; }}\n"
        );
    }
    out.push_str("</style>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</head>\n<body>\n");
    let _ = writeln!(
        out,
        "<h1>photo-suite report</h1>\n<p>{} photos analysed, {} failed, {} in near-duplicate groups.</p>",
        photos.len(),
        failures.len(),
        groups
    );
    // The radio buttons (hidden; their labels are in the legend) precede the legend and the
    // grid so that `:checked ~ .grid` and `:checked ~ .legend` select them.
    let mut inputs = String::new();
    for (i, (ratio, _)) in CROP_COLOURS.iter().enumerate() {
        let _ = write!(
            inputs,
            "<input class=\"pick\" type=\"radio\" name=\"crop\" id=\"show-{}\"{}>",
            ratio_id(ratio),
            if i == 0 { " checked" } else { "" }
        );
    }
    inputs.push_str("<input class=\"pick\" type=\"radio\" name=\"crop\" id=\"show-none\">\n");
    out.push_str(&inputs);
    out.push_str("<div class=\"legend\"><span><span class=\"swatch\" style=\"background:#ffe600\"></span>faces</span><span><span class=\"swatch\" style=\"background:#00e5ff\"></span>region of interest</span><span><span class=\"swatch\" style=\"background:#ff1744\"></span>focal point</span><span>crop:</span>");
    for (ratio, _) in CROP_COLOURS {
        let id = ratio_id(ratio);
        let _ = write!(
            out,
            "<label for=\"show-{id}\"><span class=\"swatch swatch-{id}\"></span>{ratio}</label>"
        );
    }
    out.push_str("<label for=\"show-none\">none</label></div>\n");
    out.push_str("<main class=\"grid\">\n");
    for photo in photos {
        card(&mut out, photo);
    }
    out.push_str("</main>\n");
    if !failures.is_empty() {
        out.push_str("<h2>Failed</h2>\n<table class=\"failures\"><tr><th>file</th><th>kind</th><th>reason</th></tr>\n");
        for f in failures {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&f.key),
                escape(&f.kind),
                escape(&f.message)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_escaped_for_html_and_urls() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            url_path("renditions/a b#?é.jpg/256.jpg"),
            "renditions/a%20b%23%3F%C3%A9.jpg/256.jpg"
        );
    }

    #[test]
    fn the_thumbnail_is_the_smallest_of_at_least_256_px() {
        let renditions: Value = serde_json::json!([
            {"key": "a/2048.jpg", "width": 2048, "height": 1365},
            {"key": "a/300.jpg", "width": 300, "height": 200},
            {"key": "a/100.jpg", "width": 100, "height": 67}
        ]);
        assert_eq!(thumbnail_key(&renditions).as_deref(), Some("a/300.jpg"));
        let small: Value = serde_json::json!([
            {"key": "b/100.jpg", "width": 100, "height": 67},
            {"key": "b/50.jpg", "width": 50, "height": 33}
        ]);
        assert_eq!(thumbnail_key(&small).as_deref(), Some("b/100.jpg"));
    }
}
