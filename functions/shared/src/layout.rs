//! The layout use-case: a `layout.requested` message in, the book's layout stored as
//! `layouts/<book_id>/<request_id>.json` and announced by `layout.ready` (a claim check). The same
//! code runs in the `layout` Lambda (S3 + SNS) and in `photo-suite layout` (a folder).

use crate::ingest::TransientError;
use crate::keys::{analysis_key, check_length};
use crate::messages::{LayoutReady, Message};
use crate::plan::{plan, PhotoFacts, Plan, PlanSettings, PrintQuality};
use crate::ports::{ObjectStore, Publisher, Retry, StoreError};
use crate::requests::{LayoutRequest, RequestError};
use serde::Serialize;
use serde_json::Value;

/// Analysis documents read at once.
const PARALLEL_READS: usize = 32;
/// The largest analysis read (ours are a few kilobytes; 29 faces make about 4 KB): a larger
/// object in its place is not one of ours and is reported, not held in memory.
const MAX_ANALYSIS_BYTES: u64 = 1 << 20;
/// Unknown photos named in a failure message (the count is always given).
const NAMED_UNKNOWN: usize = 10;
/// Version of the layout document's shape.
pub const LAYOUT_VERSION: u32 = 1;

/// Settings of the layout use-case.
#[derive(Debug, Clone, Default)]
pub struct LayoutSettings {
    /// The uploads' input prefix: stripped from photo keys to find their analysis.
    pub input_prefix: String,
    /// Default planner settings (a request may override them).
    pub plan: PlanSettings,
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutOutcome {
    /// Stored and announced.
    Ready {
        /// The layout's key.
        key: String,
    },
    /// Refused; `layout.failed` published, nothing stored (an earlier delivery's layout removed,
    /// or named in the message when the store refused to delete it).
    Failed(RequestError),
}

/// The stored layout document.
#[derive(Debug, Serialize)]
struct LayoutDocument<'a> {
    version: u32,
    request_id: &'a str,
    book_id: &'a str,
    settings: PlanSettings,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// Key of a book's layout.
pub fn layout_key(book_id: &str, request_id: &str) -> String {
    format!("layouts/{book_id}/{request_id}.json")
}

/// Runs one request: validates it, reads every photo's analysis from `store` (the output store
/// ingest wrote), plans the book, stores the layout and publishes `layout.ready`. A request
/// that cannot be served (malformed, naming photos with no analysis, or a layout the store
/// refuses for good) is published as `layout.failed`; passing storage and publishing faults
/// are returned, for a retry. The same request
/// always gives the same key and bytes.
pub async fn run_layout<S: ObjectStore, P: Publisher>(
    message: Result<Value, RequestError>,
    store: &S,
    publisher: &P,
    settings: &LayoutSettings,
) -> Result<LayoutOutcome, TransientError> {
    let result = match message {
        Ok(request) => layout(&request, store, publisher, settings).await?,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(LayoutOutcome::Ready { key }),
        Err(e) => {
            e.report(publisher, Message::LayoutFailed).await?;
            Ok(LayoutOutcome::Failed(e))
        }
    }
}

async fn layout<S: ObjectStore, P: Publisher>(
    request: &Value,
    store: &S,
    publisher: &P,
    settings: &LayoutSettings,
) -> Result<Result<String, RequestError>, TransientError> {
    let request = match LayoutRequest::parse(request) {
        Ok(r) => r,
        // Malformed, but its ids readable: what an earlier delivery stored at its key goes, as
        // for any other refusal (the store agrees with the last message).
        Err(e) => {
            return match LayoutRequest::ids_of(request) {
                Some((book_id, request_id)) => {
                    e.withdrawing(store, &layout_key(&book_id, &request_id))
                        .await
                }
                None => Ok(Err(e)),
            }
        }
    };
    let fail = |kind, message| RequestError::of_request(&request.request_id, kind, message);
    let key = layout_key(&request.book_id, &request.request_id);
    let plan_settings = match request.plan_settings(settings.plan) {
        Ok(s) => s,
        Err(e) => return e.withdrawing(store, &key).await,
    };
    let facts = match read_facts(&request.photos, store, &settings.input_prefix).await? {
        Ok(facts) => facts,
        Err((kind, message)) => return fail(kind, message).withdrawing(store, &key).await,
    };
    let plan = plan(&facts, &request.surfaces, &plan_settings);
    let document = LayoutDocument {
        version: LAYOUT_VERSION,
        request_id: &request.request_id,
        book_id: &request.book_id,
        settings: plan_settings,
        plan: &plan,
    };
    let mut json =
        serde_json::to_vec_pretty(&document).map_err(|e| StoreError::permanent("put", &key, e))?;
    json.push(b'\n');
    match store.put(&key, json, "application/json").await {
        Ok(()) => {}
        // Refused by the store for good (access denied, ...): the caller hears of it.
        Err(e) if e.retry == Retry::Permanent => {
            return fail("output", e.to_string()).withdrawing(store, &key).await
        }
        Err(e) => return Err(e.into()),
    }
    let filled: Vec<_> = plan
        .surfaces
        .iter()
        .flat_map(|s| &s.slots)
        .filter(|s| s.photo.is_some())
        .collect();
    let ready = LayoutReady {
        request_id: request.request_id.clone(),
        book_id: request.book_id.clone(),
        layout_key: key.clone(),
        photos: plan.photos.len(),
        selected: plan.photos.iter().filter(|p| p.selected).count(),
        slots: plan.surfaces.iter().map(|s| s.slots.len()).sum(),
        filled: filled.len(),
        low_dpi_slots: filled
            .iter()
            .filter(|s| s.print_quality == Some(PrintQuality::Low))
            .count(),
        duplicate_groups: plan
            .photos
            .iter()
            .filter_map(|p| p.duplicate_group)
            .max()
            .unwrap_or(0) as usize,
        events: plan.events.len(),
    };
    publisher.publish(&Message::LayoutReady(ready)).await?;
    Ok(Ok(key))
}

/// Reads the analysis of every photo, `PARALLEL_READS` at a time. A photo outside the input
/// prefix or without an analysis is unknown; all unknown photos are reported together. An
/// analysis that cannot be read for good (access denied, not a file, over
/// `MAX_ANALYSIS_BYTES`) or used (not an analysis with pixel facts) is `bad_analysis`; a
/// transient store fault is returned, for a retry.
async fn read_facts<S: ObjectStore>(
    photos: &[String],
    store: &S,
    prefix: &str,
) -> Result<Result<Vec<PhotoFacts>, (&'static str, String)>, TransientError> {
    let mut facts = Vec::with_capacity(photos.len());
    let mut unknown = Vec::new();
    let mut unreadable = Vec::new();
    for chunk in photos.chunks(PARALLEL_READS) {
        let reads = chunk.iter().map(|key| async move {
            let Some(relative) = key.strip_prefix(prefix).filter(|r| !r.is_empty()) else {
                return Ok(None);
            };
            let analysis = analysis_key(relative);
            // An analysis key longer than S3 takes was never written (ingest refuses such a
            // photo as invalid_key): the photo is unknown, not its analysis unreadable.
            if check_length(&analysis).is_err() {
                return Ok(None);
            }
            match store.get(&analysis, MAX_ANALYSIS_BYTES).await {
                Ok(read) => Ok(Some(read.bytes)),
                Err(e) if e.not_found => Ok(None),
                Err(e) => Err(e),
            }
        });
        for (key, read) in chunk
            .iter()
            .zip(futures_util::future::join_all(reads).await)
        {
            match read {
                Ok(None) => unknown.push(key.as_str()),
                Ok(Some(Ok(bytes))) => match PhotoFacts::from_analysis(key, &bytes) {
                    Ok(f) => facts.push(f),
                    Err(e) => unreadable.push(format!("{key:?}: {e}")),
                },
                Ok(Some(Err(too_large))) => unreadable.push(format!(
                    "{key:?}: {}",
                    too_large.describe("the analysis", MAX_ANALYSIS_BYTES)
                )),
                // Retrying cannot help (access denied, not a file): report it.
                Err(e) if e.retry == Retry::Permanent => unreadable.push(format!("{key:?}: {e}")),
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !unknown.is_empty() {
        let named: Vec<String> = unknown
            .iter()
            .take(NAMED_UNKNOWN)
            .map(|k| format!("{k:?}"))
            .collect();
        return Ok(Err((
            "unknown_photo",
            format!(
                "{} photo(s) have no analysis (not ingested, failed, or outside the input \
                 prefix {prefix:?}): {}{}",
                unknown.len(),
                named.join(", "),
                if unknown.len() > NAMED_UNKNOWN {
                    ", ..."
                } else {
                    ""
                }
            ),
        )));
    }
    if !unreadable.is_empty() {
        return Ok(Err((
            "bad_analysis",
            format!(
                "{} analysis document(s) cannot be used: {}",
                unreadable.len(),
                unreadable.join("; ")
            ),
        )));
    }
    Ok(Ok(facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::{FolderStore, MemoryTopics};
    use crate::ports::Topic;
    use serde_json::json;

    #[tokio::test]
    async fn an_analysis_that_cannot_be_read_is_reported_not_retried() {
        let dir = std::env::temp_dir().join(format!("photo-suite-layout-{}", std::process::id()));
        // A folder where the document should be: reading it fails for good.
        std::fs::create_dir_all(dir.join("analysis/a.jpg.json")).expect("scratch folder");
        let store = FolderStore::new(&dir);
        let topics = MemoryTopics::default();
        let request = json!({"type": "layout.requested", "request_id": "r", "book_id": "b",
            "photos": ["a.jpg"], "surfaces": [{"surface_number": 1,
            "page": {"width": 100, "height": 100, "dpi": 300},
            "slots": [{"x": 0, "y": 0, "w": 100, "h": 100}]}]});
        let outcome = run_layout(Ok(request), &store, &topics, &LayoutSettings::default()).await;
        let _ = std::fs::remove_dir_all(&dir);
        match outcome {
            Ok(LayoutOutcome::Failed(e)) => assert_eq!(e.kind, "bad_analysis", "{e}"),
            other => panic!("expected a bad_analysis failure, got {other:?}"),
        }
        let messages = topics.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].0, Topic::Failures);
        assert!(messages[0].1.contains("layout.failed"), "{}", messages[0].1);
    }
}
