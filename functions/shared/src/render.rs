//! The render use-case: a `render.requested` message in, the placement rendered from the
//! original at print resolution, stored under `renders/` and announced by `render.done`. The
//! same code runs in the `render` Lambda and in `photo-suite render`.

use crate::ingest::{process_named, TransientError};
use crate::keys::check_length;
use crate::messages::{Message, RenderDone};
use crate::ports::{ObjectStore, Publisher, Retry};
use crate::requests::{RenderFormat, RenderRequest, RequestError};
use imaging_core::analysis::geometry::Rect;
use imaging_core::{check_print_options, render_print, Limits, PrintFormat, PrintOptions};
use serde_json::Value;

/// Settings of the render use-case.
#[derive(Debug, Clone, Default)]
pub struct RenderSettings {
    /// The uploads' input prefix: only photos under it are rendered; it is stripped from
    /// output keys.
    pub input_prefix: String,
    /// Limits on the original (bytes, pixels) and on the output's size.
    pub limits: Limits,
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderOutcome {
    /// Stored and announced.
    Done {
        /// The render's key.
        key: String,
    },
    /// Refused; `render.failed` published, nothing stored (an earlier delivery's file removed).
    Failed(RequestError),
}

/// Key of a render: named by everything that decides its bytes, so a repeated request
/// overwrites the same object with the same bytes, and different requests never collide.
pub fn render_key(relative_photo: &str, request: &RenderRequest, format: PrintFormat) -> String {
    let p = &request.placement;
    let quality = match format {
        PrintFormat::Jpeg { quality } => format!("-q{quality}"),
        PrintFormat::Png => String::new(),
    };
    format!(
        "renders/{relative_photo}/{}x{}+{}+{}-r{}-{}x{}{quality}.{}",
        p.width,
        p.height,
        p.x,
        p.y,
        request.turn().unwrap_or(0),
        request.width,
        request.height,
        format.extension()
    )
}

/// Runs one request: validates it, reads the original from `input` (size checked first),
/// renders on a blocking thread, stores the file in `output` and publishes `render.done`.
/// A request that cannot be served (malformed, unknown photo, crop outside it, output over the
/// limits, undecodable original) is published as `render.failed`; storage and publishing
/// faults are returned, for a retry.
pub async fn run_render<I: ObjectStore, O: ObjectStore, P: Publisher>(
    message: Result<Value, RequestError>,
    input: &I,
    output: &O,
    publisher: &P,
    settings: &RenderSettings,
) -> Result<RenderOutcome, TransientError> {
    let result = match message {
        Ok(request) => render(&request, input, output, publisher, settings).await?,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(RenderOutcome::Done { key }),
        Err(e) => {
            e.report(publisher, Message::RenderFailed).await?;
            Ok(RenderOutcome::Failed(e))
        }
    }
}

async fn render<I: ObjectStore, O: ObjectStore, P: Publisher>(
    request: &Value,
    input: &I,
    output: &O,
    publisher: &P,
    settings: &RenderSettings,
) -> Result<Result<String, RequestError>, TransientError> {
    let request = match RenderRequest::parse(request) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let fail = |kind: &'static str, message: String| RequestError {
        kind,
        message,
        request_id: Some(request.request_id.clone()),
    };
    let Some(relative) = request
        .photo
        .strip_prefix(&settings.input_prefix)
        .filter(|r| !r.is_empty())
    else {
        return Ok(Err(fail(
            "unknown_photo",
            format!(
                "photo {:?} is outside the input prefix {:?}",
                request.photo, settings.input_prefix
            ),
        )));
    };
    let format = match request.format {
        RenderFormat::Jpeg => PrintFormat::Jpeg {
            quality: request.quality,
        },
        RenderFormat::Png => PrintFormat::Png,
    };
    let options = PrintOptions {
        crop: Rect {
            x: request.placement.x,
            y: request.placement.y,
            width: request.placement.width,
            height: request.placement.height,
        },
        turn: request.turn().unwrap_or(0),
        width: request.width,
        height: request.height,
        format,
        limits: settings.limits,
    };
    // The output size, the rest of the options (crop, ratio, quality) and the key are checked
    // before the original is even read.
    if let Err(e) = settings
        .limits
        .check_dimensions(request.width, request.height)
    {
        return Ok(Err(fail("limits", format!("output: {e}"))));
    }
    if let Err(e) = check_print_options(&options) {
        return Ok(Err(fail(e.kind(), e.to_string())));
    }
    let key = render_key(relative, &request, format);
    if let Err(e) = check_length(&key) {
        // No object can have such a key: nothing to withdraw.
        return Ok(Err(fail("invalid_key", e.to_string())));
    }
    let limit = settings.limits.max_input_bytes;
    let bytes = match input.get(&request.photo, limit).await.map(|f| f.bytes) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(too_large)) => {
            let refusal = fail("limits", too_large.describe("input", limit));
            return refusal.withdrawing(output, &key).await;
        }
        Err(e) if e.retry == Retry::Permanent => {
            let kind = if e.not_found { "not_found" } else { "input" };
            return fail(kind, e.to_string()).withdrawing(output, &key).await;
        }
        Err(e) => return Err(e.into()),
    };
    let job = options.clone();
    // As ingest does: bytes that are not what the name says are refused (`format_mismatch`).
    let rendered = process_named(relative, bytes, move |b| render_print(b, &job)).await?;
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => {
            return fail(e.kind(), e.to_string())
                .withdrawing(output, &key)
                .await
        }
    };
    for warning in &rendered.warnings {
        tracing::warn!(photo = %request.photo, "{warning}");
    }
    let size = rendered.bytes.len();
    match output
        .put(&key, rendered.bytes, format.content_type())
        .await
    {
        Ok(()) => {}
        // Refused by the store for good (access denied, ...): the caller hears of it.
        Err(e) if e.retry == Retry::Permanent => {
            return fail("output", e.to_string())
                .withdrawing(output, &key)
                .await
        }
        Err(e) => return Err(e.into()),
    }
    publisher
        .publish(&Message::RenderDone(RenderDone {
            request_id: request.request_id.clone(),
            photo: request.photo.clone(),
            render_key: key.clone(),
            width: rendered.width,
            height: rendered.height,
            format: match request.format {
                RenderFormat::Jpeg => "jpeg",
                RenderFormat::Png => "png",
            },
            bytes: size,
        }))
        .await?;
    Ok(Ok(key))
}
