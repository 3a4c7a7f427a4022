//! The render use-case: a `render.requested` message in, the placement rendered from the
//! original at print resolution, stored under `renders/` and announced by `render.done`. The
//! same code runs in the `render` Lambda and in `photo-suite render`.

use crate::ingest::{
    changed_in_every_round, process_named, read_original, unchanged, Original, TransientError,
    MAX_ROUNDS,
};
use crate::keys::check_length;
use crate::messages::{Message, RenderDone};
use crate::ports::{ObjectStore, Publisher, Retry};
use crate::requests::{RenderFormat, RenderRequest, RequestError};
use imaging_core::analysis::geometry::Rect;
use imaging_core::{
    check_print_options, render_print, sha256_hex, Limits, PrintFormat, PrintOptions, PrintRender,
};
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
    /// Refused; `render.failed` published, nothing stored (an earlier delivery's file removed,
    /// or named in the message when the store refused to delete it).
    Failed(RequestError),
}

/// Key of a render: named by everything that decides its bytes, and by the photo the request
/// names when it names one (the first 16 hex digits of its `sha256`), so a repeated request
/// overwrites the same object with the same bytes, requests for different files get different
/// keys, and a request refused because its photo changed withdraws only a file made for a
/// request naming that photo.
pub fn render_key(relative_photo: &str, request: &RenderRequest, format: PrintFormat) -> String {
    let p = &request.placement;
    let quality = match format {
        PrintFormat::Jpeg { quality } => format!("-q{quality}"),
        PrintFormat::Png => String::new(),
    };
    let photo = request.sha256.as_ref().map_or(String::new(), |sha| {
        format!("-s{}", sha.get(..16).unwrap_or(sha))
    });
    format!(
        "renders/{relative_photo}/{}x{}+{}+{}-r{}-{}x{}{quality}{photo}.{}",
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
/// renders on a blocking thread, stores the file in `output` and publishes `render.done` (with
/// the original's SHA-256). A request that cannot be served (malformed, unknown photo, crop
/// outside it, output over the limits, undecodable original, not the photo its `sha256` names)
/// is published as `render.failed`, and what an earlier delivery stored at its key removed;
/// storage and publishing faults are returned, for a retry. As ingest does, the version of the
/// photo is checked after each round, and the work done again when it changed meanwhile (see
/// [`crate::ingest::MAX_ROUNDS`]).
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
    let fail = |kind, message| RequestError::of_request(&request.request_id, kind, message);
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
    // The key, the output size and the rest of the options (crop, ratio, quality) are checked
    // before the original is even read.
    let key = render_key(relative, &request, format);
    if let Err(e) = check_length(&key) {
        // No object can have such a key: nothing to withdraw.
        return Ok(Err(fail("invalid_key", e.to_string())));
    }
    // A request refused here may have been served before (under other limits): what that
    // delivery stored goes, so the store agrees with this message.
    if let Err(e) = settings
        .limits
        .check_dimensions(request.width, request.height)
    {
        return fail("limits", format!("output: {e}"))
            .withdrawing(output, &key)
            .await;
    }
    if let Err(e) = check_print_options(&options) {
        return fail(e.kind(), e.to_string())
            .withdrawing(output, &key)
            .await;
    }
    for _ in 0..MAX_ROUNDS {
        let (result, read) =
            render_round(&request, relative, &options, &key, input, output).await?;
        if !unchanged(input, &request.photo, read).await? {
            continue;
        }
        return match result {
            Ok(done) => {
                publisher.publish(&Message::RenderDone(done)).await?;
                Ok(Ok(key))
            }
            Err(e) => Ok(Err(e)),
        };
    }
    Err(changed_in_every_round(&request.photo))
}

/// What the blocking part of a render made of the original.
enum Rendered {
    /// The file, and the original's SHA-256.
    File(PrintRender, String),
    /// The original is not the one the request names: its SHA-256.
    Changed(String),
}

/// One round of a render: reads the original, renders it and stores the file, or refuses the
/// request and withdraws the file an earlier delivery stored at `key`. Returns that and the
/// version read (for an original that could not be read, as [`read_original`] gives it), for
/// the caller to check that the file is of the photo at the key now, as ingest does: two
/// deliveries racing over a replaced photo end with the newer photo's render.
async fn render_round<I: ObjectStore, O: ObjectStore>(
    request: &RenderRequest,
    relative: &str,
    options: &PrintOptions,
    key: &str,
    input: &I,
    output: &O,
) -> Result<(Result<RenderDone, RequestError>, Option<String>), TransientError> {
    let fail = |kind, message| RequestError::of_request(&request.request_id, kind, message);
    let refuse = |e: RequestError, version: Option<String>| async move {
        Ok((e.withdrawing(output, key).await?, version))
    };
    let limit = options.limits.max_input_bytes;
    let (bytes, version) = match read_original(input, &request.photo, limit).await? {
        Original::Read(bytes, version) => (bytes, version),
        Original::Refused {
            kind,
            message,
            version,
        } => return refuse(fail(kind, message), version).await,
    };
    let job = options.clone();
    let expected = request.sha256.clone();
    // As ingest does: bytes that are not what the name says are refused (`format_mismatch`,
    // checked first); then a photo that is not the one the request names is not rendered.
    let rendered = process_named(relative, bytes, move |b| {
        let sha256 = sha256_hex(b);
        if expected.as_ref().is_some_and(|e| *e != sha256) {
            return Ok(Rendered::Changed(sha256));
        }
        render_print(b, &job).map(|r| Rendered::File(r, sha256))
    })
    .await?;
    let (rendered, sha256) = match rendered {
        Ok(Rendered::File(rendered, sha256)) => (rendered, sha256),
        Ok(Rendered::Changed(found)) => {
            let message = format!(
                "the photo's SHA-256 is {found}, not {} as the request says: it was replaced \
                 since its layout was made (lay the book out again)",
                request.sha256.as_deref().unwrap_or_default()
            );
            return refuse(fail("photo_changed", message), Some(version)).await;
        }
        Err(e) => return refuse(fail(e.kind(), e.to_string()), Some(version)).await,
    };
    for warning in &rendered.warnings {
        tracing::warn!(photo = %request.photo, "{warning}");
    }
    let size = rendered.bytes.len();
    match output
        .put(key, rendered.bytes, options.format.content_type())
        .await
    {
        Ok(()) => {}
        // Refused by the store for good (access denied, ...): the caller hears of it.
        Err(e) if e.retry == Retry::Permanent => {
            return refuse(fail("output", e.to_string()), Some(version)).await
        }
        Err(e) => return Err(e.into()),
    }
    let done = RenderDone {
        request_id: request.request_id.clone(),
        photo: request.photo.clone(),
        render_key: key.to_string(),
        sha256,
        width: rendered.width,
        height: rendered.height,
        format: match request.format {
            RenderFormat::Jpeg => "jpeg",
            RenderFormat::Png => "png",
        },
        bytes: size,
    };
    Ok((Ok(done), Some(version)))
}
