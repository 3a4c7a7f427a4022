//! Requests from the book-layout service, `layout.requested` and `render.requested`: read from
//! an SNS event (each record's message is one request) or given directly (a request object as
//! the whole event, as `cargo lambda invoke` or the CLI pass it), then validated field by field.
//! A request that cannot be used is a [`RequestError`], reported on the failure topic with the
//! request's id when it has one.

use crate::events::MalformedEvent;
use crate::ingest::{naming_kept, remove_output, TransientError};
use crate::keys::check_safe;
use crate::messages::{Message, RequestFailed};
use crate::plan::{PlanOverrides, PlanSettings, Surface};
use crate::ports::{ObjectStore, PublishError, Publisher};
use serde::Deserialize;
use serde_json::Value;

/// Largest request accepted, in bytes of JSON: SNS's own limit for a message.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Most photos in a layout request.
pub const MAX_PHOTOS: usize = 10_000;
/// Most slots in a layout request, over all surfaces.
pub const MAX_SLOTS: usize = 5_000;
/// Most slots on one surface (the placement search is cubic in a surface's slots).
pub const MAX_SLOTS_PER_SURFACE: usize = 100;
/// Largest page or slot side of a layout request, in pixels at the page's dpi (a 300-dpi page
/// of 85 m): beyond, a size is a mistake, and sizes and dpi stay where the print figures
/// (`effective_dpi`) are finite.
pub const MAX_SIDE_PX: f64 = 1_000_000.0;
/// Highest page dpi of a layout request.
pub const MAX_DPI: f64 = 10_000.0;

/// Why a request is refused: what the failure topic says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct RequestError {
    /// The error class (listed at [`RequestFailed::kind`](crate::messages::RequestFailed)).
    pub kind: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
    /// The request's `request_id`, when it could be read.
    pub request_id: Option<String>,
}

impl RequestError {
    /// This refusal, once whatever an earlier delivery of the request stored at `key` is
    /// removed: a request that succeeded once and is refused when delivered again (its photo
    /// failed or went since) leaves no output that its last message denies, as ingest removes
    /// a failed photo's outputs. A delete the store refuses for good is logged and named in
    /// the message; a passing fault is returned, for a retry.
    pub async fn withdrawing<S: ObjectStore, T>(
        self,
        store: &S,
        key: &str,
    ) -> Result<Result<T, RequestError>, TransientError> {
        let kept = remove_output(store, key, "the output of an earlier delivery").await?;
        let message = naming_kept(self.message, kept.as_slice());
        Ok(Err(RequestError { message, ..self }))
    }

    /// A refusal of a request of `bytes` bytes, over [`MAX_REQUEST_BYTES`] (`too_large`).
    pub fn too_large(bytes: u64, request_id: Option<String>) -> Self {
        RequestError {
            kind: "too_large",
            message: format!("request is {bytes} bytes, over the limit of {MAX_REQUEST_BYTES}"),
            request_id,
        }
    }

    /// A refusal of the request with id `request_id`.
    pub fn of_request(request_id: &str, kind: &'static str, message: String) -> Self {
        RequestError {
            kind,
            message,
            request_id: Some(request_id.to_string()),
        }
    }

    /// Logs the refusal and publishes it on the failure topic as the message `wrap` makes
    /// (`Message::LayoutFailed`, `Message::RenderFailed`).
    pub async fn report<P: Publisher>(
        &self,
        publisher: &P,
        wrap: fn(RequestFailed) -> Message,
    ) -> Result<(), PublishError> {
        tracing::warn!(kind = self.kind, request_id = ?self.request_id, "{}", self.message);
        publisher
            .publish(&wrap(RequestFailed {
                request_id: self.request_id.clone(),
                kind: self.kind.to_string(),
                message: self.message.clone(),
            }))
            .await
    }

    /// A refusal of a request that is not a well-formed one (`malformed_request`).
    pub fn malformed(message: impl ToString, request_id: Option<String>) -> Self {
        RequestError {
            kind: "malformed_request",
            message: message.to_string(),
            request_id,
        }
    }
}

/// The requests in an invocation event: each SNS record's message, parsed (a message that is
/// not JSON, or is too large, is an error of its own), or the event itself when it is not an
/// SNS event. A malformed SNS envelope fails the whole event.
pub fn request_messages(event: &Value) -> Result<Vec<Result<Value, RequestError>>, MalformedEvent> {
    let Some(records) = event.get("Records") else {
        return Ok(vec![check_size(event)]);
    };
    let records = records
        .as_array()
        .ok_or_else(|| MalformedEvent("Records is not an array".into()))?;
    let mut out = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        if record.get("EventSource").and_then(Value::as_str) != Some("aws:sns") {
            return Err(MalformedEvent(format!("record {i}: not an SNS record")));
        }
        let text = record
            .pointer("/Sns/Message")
            .and_then(Value::as_str)
            .ok_or_else(|| MalformedEvent(format!("record {i}: SNS record without Sns.Message")))?;
        out.push(parse_message(text));
    }
    Ok(out)
}

/// Parses one request message (JSON text), refusing it above [`MAX_REQUEST_BYTES`].
pub fn parse_message(text: &str) -> Result<Value, RequestError> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::too_large(text.len() as u64, None));
    }
    serde_json::from_str(text)
        .map_err(|e| RequestError::malformed(format!("request is not JSON: {e}"), None))
}

fn check_size(event: &Value) -> Result<Value, RequestError> {
    let size = serde_json::to_vec(event).map_or(usize::MAX, |v| v.len());
    if size > MAX_REQUEST_BYTES {
        return Err(RequestError::too_large(size as u64, request_id_of(event)));
    }
    Ok(event.clone())
}

/// The `request_id` of a request, if it has a usable one (for failure reports).
pub fn request_id_of(request: &Value) -> Option<String> {
    request
        .get("request_id")
        .and_then(Value::as_str)
        .filter(|id| check_id(id).is_ok())
        .map(str::to_string)
}

/// Checks an identifier used in output keys: 1 to 128 of `A-Z a-z 0-9 . _ -`, not starting
/// with a dot.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&id.len())
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not an identifier (1-128 of A-Z a-z 0-9 . _ -, not starting with a dot)"
        ))
    }
}

/// The request's fields but its `type` (checked by [`check_type`]): an unknown field is
/// refused rather than passed over, so that a misspelt optional one (`sha` for `sha256`,
/// `fromat`) does not silently leave out what it asks for.
fn fields(request: &Value) -> Value {
    let mut fields = request.clone();
    if let Some(object) = fields.as_object_mut() {
        object.remove("type");
    }
    fields
}

fn check_type(request: &Value, expected: &str) -> Result<(), RequestError> {
    match request.get("type").and_then(Value::as_str) {
        Some(t) if t == expected => Ok(()),
        Some(t) => Err(RequestError::malformed(
            format!("type is {t:?}, expected {expected:?}"),
            request_id_of(request),
        )),
        None => Err(RequestError::malformed(
            format!("no type (expected {expected:?})"),
            request_id_of(request),
        )),
    }
}

/// `layout.requested`: lay out `photos` (keys already ingested) on `surfaces`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutRequest {
    /// The caller's id of this request (names the result).
    pub request_id: String,
    /// The book (names the result's folder).
    pub book_id: String,
    /// Photo keys, as the upload events named them.
    pub photos: Vec<String>,
    /// Pages with slots.
    pub surfaces: Vec<Surface>,
    /// Changes to the planner's configured settings (DPI thresholds, event splitting): the
    /// fields given replace those settings, the others keep the configured values.
    #[serde(default)]
    pub settings: Option<PlanOverrides>,
}

impl LayoutRequest {
    /// Reads and validates a `layout.requested` message.
    pub fn parse(request: &Value) -> Result<Self, RequestError> {
        check_type(request, "layout.requested")?;
        let id = request_id_of(request);
        let parsed: LayoutRequest = serde_path_to_error::deserialize(fields(request))
            .map_err(|e| RequestError::malformed(e, id.clone()))?;
        parsed
            .validate()
            .map_err(|message| RequestError::malformed(message, id.clone()))?;
        Ok(parsed)
    }

    /// The `book_id` and `request_id` of a `layout.requested` message, where both are valid
    /// ids, whether or not the rest of it is: the key of what an earlier delivery stored, for
    /// a refusal of a malformed one to withdraw.
    pub fn ids_of(request: &Value) -> Option<(String, String)> {
        check_type(request, "layout.requested").ok()?;
        let id = |field| {
            let id = request.get(field).and_then(Value::as_str)?;
            check_id(id).is_ok().then(|| id.to_string())
        };
        Some((id("book_id")?, id("request_id")?))
    }

    fn validate(&self) -> Result<(), String> {
        check_id(&self.request_id).map_err(|e| format!("request_id: {e}"))?;
        check_id(&self.book_id).map_err(|e| format!("book_id: {e}"))?;
        if self.photos.is_empty() || self.photos.len() > MAX_PHOTOS {
            return Err(format!(
                "photos: {} given, 1 to {MAX_PHOTOS} accepted",
                self.photos.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, key) in self.photos.iter().enumerate() {
            check_safe(key).map_err(|e| format!("photos[{i}]: {e}"))?;
            if !seen.insert(key.as_str()) {
                return Err(format!("photos[{i}]: {key:?} is listed twice"));
            }
        }
        if self.surfaces.is_empty() {
            return Err("surfaces: at least one is needed".into());
        }
        let mut numbers = std::collections::BTreeSet::new();
        let mut slots = 0usize;
        for (i, s) in self.surfaces.iter().enumerate() {
            if !numbers.insert(s.surface_number) {
                return Err(format!(
                    "surfaces[{i}]: surface_number {} is used twice",
                    s.surface_number
                ));
            }
            let p = &s.page;
            for (name, v) in [("width", p.width), ("height", p.height)] {
                if !(1.0..=MAX_SIDE_PX).contains(&v) {
                    return Err(format!(
                        "surfaces[{i}].page.{name} must be 1 to {MAX_SIDE_PX} px"
                    ));
                }
            }
            if !(p.dpi > 0.0 && p.dpi <= MAX_DPI) {
                return Err(format!(
                    "surfaces[{i}].page.dpi must be above 0 and at most {MAX_DPI}"
                ));
            }
            if s.slots.len() > MAX_SLOTS_PER_SURFACE {
                return Err(format!(
                    "surfaces[{i}]: {} slots, at most {MAX_SLOTS_PER_SURFACE} on a surface",
                    s.slots.len()
                ));
            }
            for (j, slot) in s.slots.iter().enumerate() {
                let at = format!("surfaces[{i}].slots[{j}]");
                if ![slot.x, slot.y, slot.rot].iter().all(|v| v.is_finite()) {
                    return Err(format!("{at}: x, y and rot must be numbers"));
                }
                if !(1.0..=MAX_SIDE_PX).contains(&slot.w) || !(1.0..=MAX_SIDE_PX).contains(&slot.h)
                {
                    return Err(format!("{at}: w and h must be 1 to {MAX_SIDE_PX} px"));
                }
                if slot.ratio().is_none() {
                    return Err(format!(
                        "{at}: w and h must be positive, at most 10000 times each other"
                    ));
                }
            }
            slots += s.slots.len();
        }
        if slots == 0 || slots > MAX_SLOTS {
            return Err(format!(
                "surfaces: {slots} slots in all, 1 to {MAX_SLOTS} accepted"
            ));
        }
        Ok(())
    }

    /// The planner's settings for this request: `configured` with the request's changes,
    /// validated together (a request's `dpi_fair` is checked against the configured
    /// `dpi_good` when it does not change that one too).
    pub fn plan_settings(&self, configured: PlanSettings) -> Result<PlanSettings, RequestError> {
        let settings = self.settings.unwrap_or_default().over(configured);
        settings.validate().map_err(|e| {
            RequestError::malformed(format!("settings: {e}"), Some(self.request_id.clone()))
        })?;
        Ok(settings)
    }
}

/// The crop of a render request, in the upright photo's pixels, and the output's turn.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderPlacement {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Clockwise turn of the output: 0, 90, 180 or 270 (a slot at another angle is rendered
    /// at 0 and turned by the page composer).
    #[serde(default)]
    pub rot: f64,
}

/// Output format of a render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderFormat {
    /// JPEG, 4:4:4.
    Jpeg,
    /// PNG.
    Png,
}

/// `render.requested`: the placement of a photo at print resolution.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The caller's id of this request.
    pub request_id: String,
    /// The photo's key, as the upload event named it.
    pub photo: String,
    /// What to cut from the photo.
    pub placement: RenderPlacement,
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// `jpeg` (default) or `png`.
    #[serde(default = "default_format")]
    pub format: RenderFormat,
    /// JPEG quality, 1..=100 (default 92).
    #[serde(default = "default_quality")]
    pub quality: u8,
    /// SHA-256 of the original the placement was chosen for (the layout's `photos[].sha256`),
    /// 64 lowercase hex digits: when given, a photo whose bytes are no longer those is refused
    /// (`photo_changed`) rather than cut where another photo's placement says.
    #[serde(default)]
    pub sha256: Option<String>,
}

fn default_format() -> RenderFormat {
    RenderFormat::Jpeg
}

fn default_quality() -> u8 {
    92
}

impl RenderRequest {
    /// Reads and validates a `render.requested` message.
    pub fn parse(request: &Value) -> Result<Self, RequestError> {
        check_type(request, "render.requested")?;
        let id = request_id_of(request);
        let parsed: RenderRequest = serde_path_to_error::deserialize(fields(request))
            .map_err(|e| RequestError::malformed(e, id.clone()))?;
        let bad = |m: String| RequestError::malformed(m, id.clone());
        check_id(&parsed.request_id).map_err(|e| bad(format!("request_id: {e}")))?;
        check_safe(&parsed.photo).map_err(|e| RequestError {
            kind: "invalid_key",
            message: format!("photo: {e}"),
            request_id: id.clone(),
        })?;
        parsed.turn().map_err(bad)?;
        if parsed.width == 0 || parsed.height == 0 {
            return Err(bad(format!(
                "width and height must be at least 1 (are {}x{})",
                parsed.width, parsed.height
            )));
        }
        if let Some(sha) = &parsed.sha256 {
            let hex =
                sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !hex {
                return Err(bad(format!(
                    "sha256 {sha:?} is not 64 lowercase hex digits"
                )));
            }
        }
        if !(1..=100).contains(&parsed.quality) {
            return Err(bad(format!(
                "quality {} is outside 1..=100",
                parsed.quality
            )));
        }
        Ok(parsed)
    }

    /// The output's clockwise turn in degrees (0, 90, 180 or 270).
    pub fn turn(&self) -> Result<u16, String> {
        let r = self.placement.rot;
        let normal = r.rem_euclid(360.0);
        match normal {
            n if n == 0.0 || n == 90.0 || n == 180.0 || n == 270.0 => Ok(n as u16),
            _ => Err(format!(
                "placement.rot {r} is not a multiple of 90 (render a tilted slot at 0; the page \
                 composer turns it)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout() -> Value {
        json!({"type": "layout.requested", "request_id": "r1", "book_id": "b1",
               "photos": ["uploads/a.jpg", "uploads/b.jpg"],
               "surfaces": [{"surface_number": 1, "page": {"width": 3000, "height": 2000, "dpi": 300},
                             "slots": [{"x": 0, "y": 0, "w": 1500, "h": 2000, "rot": 0}]}]})
    }

    #[test]
    fn sns_records_and_direct_requests_are_read() {
        let direct = request_messages(&layout()).expect("valid");
        assert_eq!(direct.len(), 1);
        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": layout().to_string()}},
                                      {"EventSource": "aws:sns", "Sns": {"Message": "{nope"}}]});
        let got = request_messages(&sns).expect("valid envelope");
        assert!(got[0].is_ok());
        assert_eq!(
            got[1].as_ref().expect_err("not JSON").kind,
            "malformed_request"
        );
        assert!(request_messages(&json!({"Records": [{"eventSource": "aws:s3"}]})).is_err());
        let huge = "x".repeat(MAX_REQUEST_BYTES + 1);
        assert_eq!(
            parse_message(&huge).expect_err("too large").kind,
            "too_large"
        );
    }

    #[test]
    fn a_valid_layout_request_parses_and_bad_fields_are_named() {
        let ok = LayoutRequest::parse(&layout()).expect("valid");
        assert_eq!(ok.photos.len(), 2);
        let cases: Vec<(Value, &str)> = vec![
            (json!({"type": "render.requested"}), "type"),
            (
                json!({"type": "layout.requested", "request_id": "r1"}),
                "missing field",
            ),
        ];
        for (bad, needle) in cases {
            let e = LayoutRequest::parse(&bad).expect_err("refused");
            assert!(e.message.contains(needle), "{e}");
        }
        let mutate = |f: &dyn Fn(&mut Value)| {
            let mut v = layout();
            f(&mut v);
            LayoutRequest::parse(&v).expect_err("refused")
        };
        let e = mutate(&|v| v["photos"] = json!(["../etc/passwd"]));
        assert!(e.message.contains("photos[0]"), "{e}");
        assert_eq!(e.request_id.as_deref(), Some("r1"));
        let e = mutate(&|v| v["photos"] = json!(["a.jpg", "a.jpg"]));
        assert!(e.message.contains("twice"), "{e}");
        let e = mutate(&|v| v["book_id"] = json!("../b"));
        assert!(e.message.contains("book_id"), "{e}");
        let e = mutate(&|v| v["surfaces"][0]["slots"][0]["w"] = json!(0));
        assert!(e.message.contains("slots[0]"), "{e}");
        let e = mutate(&|v| v["surfaces"][0]["slots"][0]["rotation"] = json!(5));
        assert!(e.message.contains("rotation"), "{e}");
        let e = mutate(&|v| v["surfaces"][0]["page"]["dpi"] = json!(-1));
        assert!(e.message.contains("dpi"), "{e}");
        // Sizes and dpi that would make the print figures infinite.
        let e = mutate(&|v| v["surfaces"][0]["page"]["dpi"] = json!(1e300));
        assert!(e.message.contains("page.dpi"), "{e}");
        let e = mutate(&|v| {
            v["surfaces"][0]["slots"][0]["w"] = json!(1e-10);
            v["surfaces"][0]["slots"][0]["h"] = json!(1e-10);
        });
        assert!(e.message.contains("slots[0]: w and h"), "{e}");
        let e = mutate(&|v| v["surfaces"][0]["page"]["width"] = json!(2e6));
        assert!(e.message.contains("page.width"), "{e}");
        let e = mutate(&|v| {
            v["surfaces"][0]["slots"] = json!(vec![json!({"x": 0, "y": 0, "w": 10, "h": 10}); 101])
        });
        assert!(e.message.contains("at most 100"), "{e}");
        let e = mutate(&|v| v["settings"] = json!({"dpi_god": 300}));
        assert!(e.message.contains("dpi_god"), "{e}");
        // Values of the wrong type or range name where they are, too.
        let e = mutate(&|v| v["surfaces"][0]["slots"][0]["rot"] = json!("90"));
        assert!(
            e.message
                .starts_with("surfaces[0].slots[0].rot: invalid type"),
            "{e}"
        );
        let e = mutate(&|v| v["surfaces"][0]["surface_number"] = json!(-1));
        assert!(e.message.starts_with("surfaces[0].surface_number: "), "{e}");
        let e = mutate(&|v| v["request_id"] = json!(5));
        assert!(e.message.starts_with("request_id: invalid type"), "{e}");
        let e = mutate(&|v| v["settings"] = json!({"dpi_good": "300"}));
        assert!(e.message.starts_with("settings.dpi_good: "), "{e}");
    }

    #[test]
    fn settings_a_request_gives_replace_only_those_of_the_configured_ones() {
        let configured = PlanSettings {
            dpi_good: 400.0,
            dpi_fair: 200.0,
            event_gap_hours: 6.0,
            event_distance_km: 50.0,
        };
        let with = |settings: Value| {
            let mut request = layout();
            request["settings"] = settings;
            LayoutRequest::parse(&request)
                .expect("valid")
                .plan_settings(configured)
        };
        let merged = with(json!({"event_gap_hours": 5})).expect("valid");
        assert_eq!(
            merged,
            PlanSettings {
                event_gap_hours: 5.0,
                ..configured
            }
        );
        // Checked against the configured dpi_good (400), not the built-in default (250).
        let merged = with(json!({"dpi_fair": 300})).expect("valid");
        assert_eq!((merged.dpi_good, merged.dpi_fair), (400.0, 300.0));
        assert_eq!(with(Value::Null).expect("valid"), configured);
        let e = with(json!({"dpi_fair": 500})).expect_err("above the configured dpi_good");
        assert_eq!(e.kind, "malformed_request");
        assert!(
            e.message.contains("dpi_fair 500 is above dpi_good 400"),
            "{e}"
        );
        let e = with(json!({"dpi_good": -1})).expect_err("negative");
        assert!(e.message.contains("settings: dpi_good"), "{e}");
    }

    #[test]
    fn render_requests_check_the_turn_key_and_quality() {
        let base = json!({"type": "render.requested", "request_id": "r2", "photo": "uploads/a.jpg",
                          "placement": {"x": 0, "y": 0, "width": 400, "height": 300, "rot": -90},
                          "width": 800, "height": 600});
        let ok = RenderRequest::parse(&base).expect("valid");
        assert_eq!(
            (ok.turn(), ok.format, ok.quality),
            (Ok(270), RenderFormat::Jpeg, 92)
        );
        let mut tilted = base.clone();
        tilted["placement"]["rot"] = json!(5);
        assert!(RenderRequest::parse(&tilted).is_err());
        let mut escape = base.clone();
        escape["photo"] = json!("/etc/passwd");
        assert_eq!(
            RenderRequest::parse(&escape).expect_err("unsafe").kind,
            "invalid_key"
        );
        let mut q = base.clone();
        q["quality"] = json!(0);
        assert!(RenderRequest::parse(&q).is_err());
        let mut negative = base.clone();
        negative["placement"]["x"] = json!(-5);
        let e = RenderRequest::parse(&negative).expect_err("negative");
        assert!(e.message.starts_with("placement.x: invalid value"), "{e}");
        // An output of no pixels is a malformed request, not one over the limits.
        for (w, h) in [(0, 600), (800, 0)] {
            let mut empty = base.clone();
            (empty["width"], empty["height"]) = (json!(w), json!(h));
            let e = RenderRequest::parse(&empty).expect_err("empty");
            assert_eq!(e.kind, "malformed_request", "{e}");
            assert!(e.message.contains("at least 1"), "{e}");
        }
        let mut named = base;
        named["sha256"] = json!("ab".repeat(32));
        assert_eq!(
            RenderRequest::parse(&named).expect("valid").sha256,
            Some("ab".repeat(32))
        );
        for bad in ["AB".repeat(32), "ab".repeat(31), "ab".repeat(32) + "\n"] {
            named["sha256"] = json!(bad);
            let e = RenderRequest::parse(&named).expect_err("not a SHA-256");
            assert!(e.message.contains("sha256"), "{e}");
        }
        named["sha256"] = json!(5);
        assert_eq!(
            RenderRequest::parse(&named).expect_err("a number").kind,
            "malformed_request"
        );
    }
}
