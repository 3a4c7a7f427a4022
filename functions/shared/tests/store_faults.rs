//! Storage failures in the middle of a photo, keys the store cannot take, and objects over the
//! size a reader accepts. A transient
//! failure: the use-case returns an error (so Lambda retries the event), announces nothing, and
//! the retry completes the photo with exactly the keys and bytes of a run that never failed. A
//! permanent one: the photo is reported failed (`output`) and what was written is removed, not
//! retried into the dead-letter queue. The store is the real folder store; only the fault is
//! injected (issue 6 adds the transient case against moto behind a faulty proxy). And uploads
//! replaced or deleted while they are processed (`BusyStore`, after a read), even by an upload
//! whose own event ends first: the key ends with the outputs of the photo at it.

use photo_suite_functions::events::BadRecord;
use photo_suite_functions::ingest::{
    ingest_upload, refuse_bad_record, IngestSettings, Outcome, TransientError, Upload,
};
use photo_suite_functions::keys::{analysis_key, rendition_key, KeyError};
use photo_suite_functions::layout::{run_layout, LayoutOutcome, LayoutSettings};
use photo_suite_functions::local::{FileTopics, FolderStore, MemoryTopics};
use photo_suite_functions::ports::{Fetched, ObjectStore, Retry, StoreError, TooLarge, Topic};
use photo_suite_functions::render::{run_render, RenderOutcome, RenderSettings};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use test_support::tree;

/// Where [`scratch`] makes folder `name`.
fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_path(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The folder store, with its `fail_at`-th put (counting from 1) failing, transiently or not.
struct FaultyStore {
    inner: FolderStore,
    puts: AtomicUsize,
    fail_at: usize,
    permanent: bool,
}

impl ObjectStore for FaultyStore {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        self.inner.get(key, max_bytes).await
    }

    async fn version(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.version(key).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        if self.puts.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(if self.permanent {
                StoreError::permanent("put", key, "403 AccessDenied (injected)")
            } else {
                StoreError::transient("put", key, "503 SlowDown (injected)")
            });
        }
        self.inner.put(key, bytes, content_type).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_transient_put_failure_is_retried_to_the_same_outputs() {
    let input_dir = scratch("transient-in");
    std::fs::create_dir_all(input_dir.join("uploads")).expect("folder");
    std::fs::copy(
        test_support::photos_dir().join("faces/obama_official_portrait.jpg"),
        input_dir.join("uploads/obama.jpg"),
    )
    .expect("copy photo");
    let input = FolderStore::new(&input_dir);
    let upload = Upload {
        bucket: "uploads-bucket".into(),
        key: "uploads/obama.jpg".into(),
    };
    let settings = IngestSettings {
        input_prefix: "uploads/".into(),
        ..IngestSettings::default()
    };

    // A run that never fails: the reference outputs.
    let clean_dir = scratch("transient-clean");
    let clean_topics = FileTopics::new(clean_dir.join("events"), clean_dir.join("failures"));
    let clean = ingest_upload(
        &upload,
        &input,
        &FolderStore::new(clean_dir.join("out")),
        &clean_topics,
        &settings,
    )
    .await;
    assert!(matches!(clean, Ok(Outcome::Analyzed { .. })), "{clean:?}");
    let expected = tree(&clean_dir.join("out"));
    assert_eq!(expected.len(), 4, "three renditions and the analysis");

    // The second put (after the first rendition) fails.
    let faulty_dir = scratch("transient-faulty");
    let output = FaultyStore {
        inner: FolderStore::new(faulty_dir.join("out")),
        puts: AtomicUsize::new(0),
        fail_at: 2,
        permanent: false,
    };
    let topics = FileTopics::new(faulty_dir.join("events"), faulty_dir.join("failures"));
    let first = ingest_upload(&upload, &input, &output, &topics, &settings).await;
    assert!(
        matches!(first, Err(TransientError::Store(_))),
        "a transient failure is an error, for Lambda to retry: {first:?}"
    );
    assert_eq!(topics.count(Topic::Events), 0, "nothing announced");
    assert_eq!(topics.count(Topic::Failures), 0, "not a permanent failure");
    let partial = tree(&faulty_dir.join("out"));
    assert!(
        partial
            .keys()
            .all(|k| !k.starts_with("analysis") && expected.get(k) == partial.get(k)),
        "no analysis (it is written last) and no half-written object: {:?}",
        partial.keys().collect::<Vec<_>>()
    );

    // The retry (the fault has passed) completes the photo exactly as the clean run did.
    let retry = ingest_upload(&upload, &input, &output, &topics, &settings).await;
    assert!(matches!(retry, Ok(Outcome::Analyzed { .. })), "{retry:?}");
    assert_eq!(tree(&faulty_dir.join("out")), expected);
    assert_eq!(topics.count(Topic::Events), 1);
    assert_eq!(topics.count(Topic::Failures), 0);
}

/// Obama's portrait under `uploads/<name>` in a fresh input folder.
fn one_upload(dir: &str, name: &str) -> (FolderStore, Upload) {
    let input_dir = scratch(dir);
    let path = input_dir.join("uploads").join(name);
    std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
    std::fs::copy(
        test_support::photos_dir().join("faces/obama_official_portrait.jpg"),
        &path,
    )
    .expect("copy photo");
    let upload = Upload {
        bucket: "uploads-bucket".into(),
        key: format!("uploads/{name}"),
    };
    (FolderStore::new(&input_dir), upload)
}

fn settings() -> IngestSettings {
    IngestSettings {
        input_prefix: "uploads/".into(),
        ..IngestSettings::default()
    }
}

/// The messages published on the failures topic, as JSON (written to `file` first).
fn failures(topics: &FileTopics, file: &Path) -> Vec<serde_json::Value> {
    topics.flush().expect("topic files written");
    std::fs::read_to_string(file)
        .expect("the failures file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn a_permanent_put_failure_is_reported_and_leaves_nothing() {
    let (input, upload) = one_upload("permanent-in", "obama.jpg");
    let dir = scratch("permanent-out");
    let output = FaultyStore {
        inner: FolderStore::new(dir.join("out")),
        puts: AtomicUsize::new(0),
        fail_at: 2,
        permanent: true,
    };
    let topics = FileTopics::new(dir.join("events"), dir.join("failures"));
    let outcome = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(
        matches!(&outcome, Ok(Outcome::Failed { kind, .. }) if kind == "output"),
        "{outcome:?}"
    );
    assert_eq!(topics.count(Topic::Events), 0);
    let failed = failures(&topics, &dir.join("failures"));
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kind"], "output");
    assert_eq!(failed[0]["key"], "uploads/obama.jpg");
    assert!(
        tree(&dir.join("out")).is_empty(),
        "the rendition written before the failure is removed"
    );
}

/// What happens to an upload while it is processed.
enum Meanwhile {
    /// Uploaded again, with these bytes.
    Upload(Vec<u8>),
    /// Uploaded again, with these bytes, and that upload's own event run to its end (its
    /// outputs written in this folder, announced on [`BusyStore::other_event`]) before the
    /// read's own round goes on.
    UploadAndIngest(Vec<u8>, PathBuf),
    /// Deleted.
    Delete,
}

/// The folder store, where after each read the next of `meanwhile` happens to the key read
/// (an upload or a deletion that comes while the photo is processed).
struct BusyStore {
    inner: FolderStore,
    meanwhile: Mutex<VecDeque<Meanwhile>>,
    /// What the events run by [`Meanwhile::UploadAndIngest`] published.
    other_event: MemoryTopics,
}

impl BusyStore {
    fn new(inner: FolderStore, meanwhile: impl IntoIterator<Item = Meanwhile>) -> Self {
        BusyStore {
            inner,
            meanwhile: Mutex::new(meanwhile.into_iter().collect()),
            other_event: MemoryTopics::default(),
        }
    }
}

impl ObjectStore for BusyStore {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        let read = self.inner.get(key, max_bytes).await;
        let next = self.meanwhile.lock().expect("queue").pop_front();
        match next {
            Some(Meanwhile::Upload(bytes)) => self.inner.put(key, bytes, "image/jpeg").await?,
            Some(Meanwhile::UploadAndIngest(bytes, out)) => {
                self.inner.put(key, bytes, "image/jpeg").await?;
                let upload = Upload {
                    bucket: "uploads-bucket".into(),
                    key: key.into(),
                };
                let output = FolderStore::new(out);
                let other = ingest_upload(
                    &upload,
                    &self.inner,
                    &output,
                    &self.other_event,
                    &settings(),
                )
                .await;
                assert!(matches!(other, Ok(Outcome::Analyzed { .. })), "{other:?}");
            }
            Some(Meanwhile::Delete) => self.inner.delete(key).await?,
            None => {}
        }
        read
    }

    async fn version(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.version(key).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        self.inner.put(key, bytes, content_type).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

fn photo(path: &str) -> Vec<u8> {
    std::fs::read(test_support::photos_dir().join(path)).expect("photo")
}

/// The outputs and the `photo.analyzed` summary of Hopper's portrait ingested on its own.
async fn hopper_reference(
    name: &str,
) -> (
    std::collections::BTreeMap<PathBuf, Vec<u8>>,
    serde_json::Value,
) {
    let (input, upload) = one_upload(&format!("{name}-ref-in"), "obama.jpg");
    std::fs::write(
        scratch_path(&format!("{name}-ref-in")).join("uploads/obama.jpg"),
        photo("faces/hopper.jpg"),
    )
    .expect("photo");
    let (made, dir, topics) = ingest_fresh(&format!("{name}-ref-out"), &upload, &input).await;
    assert!(matches!(made, Ok(Outcome::Analyzed { .. })), "{made:?}");
    (tree(&dir.join("out")), summary(&topics.messages()[0].1))
}

/// `upload` ingested from `input` into the fresh folder `<name>/out`: the outcome, that
/// folder's parent and what was published.
async fn ingest_fresh(
    name: &str,
    upload: &Upload,
    input: &impl ObjectStore,
) -> (Result<Outcome, TransientError>, PathBuf, MemoryTopics) {
    let dir = scratch(name);
    let topics = MemoryTopics::default();
    let output = FolderStore::new(dir.join("out"));
    let outcome = ingest_upload(upload, input, &output, &topics, &settings()).await;
    (outcome, dir, topics)
}

fn summary(message: &str) -> serde_json::Value {
    let message: serde_json::Value = serde_json::from_str(message).expect("JSON");
    message["summary"].clone()
}

#[tokio::test]
async fn the_folder_store_gives_each_file_its_own_version() {
    let dir = scratch("versions");
    let store = FolderStore::new(&dir);
    store
        .put("a.jpg", b"one".to_vec(), "image/jpeg")
        .await
        .expect("put");
    let first = store.get("a.jpg", 100).await.expect("read");
    assert_eq!(first.bytes, Ok(b"one".to_vec()));
    assert_eq!(
        store.version("a.jpg").await.expect("version"),
        Some(first.version.clone())
    );
    store
        .put("a.jpg", b"two".to_vec(), "image/jpeg")
        .await
        .expect("put");
    let second = store
        .version("a.jpg")
        .await
        .expect("version")
        .expect("a file");
    assert_ne!(second, first.version, "written again");
    assert_eq!(store.get("a.jpg", 100).await.expect("read").version, second);
    store.delete("a.jpg").await.expect("delete");
    assert_eq!(store.version("a.jpg").await.expect("version"), None);
    std::fs::create_dir_all(dir.join("b.jpg")).expect("folder");
    assert_eq!(
        store.version("b.jpg").await.expect("version"),
        None,
        "not a file"
    );
}

#[tokio::test]
async fn an_upload_replaced_while_it_is_processed_ends_with_the_new_photo_s_outputs() {
    let (expected, expected_summary) = hopper_reference("replaced").await;
    let (input, upload) = one_upload("replaced-in", "obama.jpg");
    let first = input.version(&upload.key).await.expect("version");
    let input = BusyStore::new(input, [Meanwhile::Upload(photo("faces/hopper.jpg"))]);
    let (outcome, dir, topics) = ingest_fresh("replaced-out", &upload, &input).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        tree(&dir.join("out")),
        expected,
        "the new photo's outputs, not the portrait's"
    );
    let messages = topics.messages();
    assert_eq!(messages.len(), 1, "one announcement, of the new photo");
    assert_eq!(summary(&messages[0].1), expected_summary);
    let announced: serde_json::Value = serde_json::from_str(&messages[0].1).expect("JSON");
    let now = input.version(&upload.key).await.expect("version");
    assert_ne!(now, first, "uploaded again");
    assert_eq!(
        announced["etag"].as_str(),
        now.as_deref(),
        "the version announced is the new upload's"
    );
}

#[tokio::test]
async fn outputs_written_after_the_newer_upload_s_event_ended_are_put_right() {
    let (expected, expected_summary) = hopper_reference("overtaken").await;
    let (input, upload) = one_upload("overtaken-in", "obama.jpg");
    // Read the portrait; meanwhile Hopper is uploaded and its event ends, announced; then this
    // round writes the portrait's outputs over Hopper's (in the folder `ingest_fresh` makes).
    let out = scratch_path("overtaken-out").join("out");
    let newer = Meanwhile::UploadAndIngest(photo("faces/hopper.jpg"), out);
    let input = BusyStore::new(input, [newer]);
    let (outcome, dir, topics) = ingest_fresh("overtaken-out", &upload, &input).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        tree(&dir.join("out")),
        expected,
        "Hopper's outputs, as announced"
    );
    for messages in [topics.messages(), input.other_event.messages()] {
        assert_eq!(messages.len(), 1);
        assert_eq!(summary(&messages[0].1), expected_summary);
    }
}

#[tokio::test]
async fn an_upload_deleted_while_it_is_processed_leaves_no_outputs() {
    let (input, upload) = one_upload("deleted-in", "obama.jpg");
    let input = BusyStore::new(input, [Meanwhile::Delete]);
    let (outcome, dir, topics) = ingest_fresh("deleted-out", &upload, &input).await;
    assert!(
        matches!(&outcome, Ok(Outcome::Failed { kind, .. }) if kind == "not_found"),
        "{outcome:?}"
    );
    assert!(
        tree(&dir.join("out")).is_empty(),
        "the outputs written are removed"
    );
    let messages = topics.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].1.contains("photo.failed"), "{}", messages[0].1);
}

#[tokio::test]
async fn a_failed_photo_replaced_while_it_is_processed_gets_the_new_photo_s_outputs() {
    let (expected, expected_summary) = hopper_reference("refailed").await;
    let (input, upload) = one_upload("refailed-in", "obama.jpg");
    let truncated = photo("broken/truncated_jpeg_10000B_sharp.jpg");
    std::fs::write(
        scratch_path("refailed-in").join("uploads/obama.jpg"),
        truncated,
    )
    .expect("photo");
    let input = BusyStore::new(input, [Meanwhile::Upload(photo("faces/hopper.jpg"))]);
    let (outcome, dir, topics) = ingest_fresh("refailed-out", &upload, &input).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
    assert_eq!(tree(&dir.join("out")), expected);
    let messages = topics.messages();
    assert_eq!(
        messages.len(),
        1,
        "no photo.failed for the truncated photo that was replaced"
    );
    assert_eq!(summary(&messages[0].1), expected_summary);
}

#[tokio::test]
async fn an_upload_replaced_in_every_round_fails_for_a_retry_that_starts_afresh() {
    let (expected, expected_summary) = hopper_reference("churn").await;
    let (input, upload) = one_upload("churn-in", "obama.jpg");
    // The three reads get the portrait, Hopper, the portrait; each is then replaced, leaving
    // Hopper for the retry.
    let replacements = [
        "faces/hopper.jpg",
        "faces/obama_official_portrait.jpg",
        "faces/hopper.jpg",
    ];
    let input = BusyStore::new(input, replacements.map(|p| Meanwhile::Upload(photo(p))));
    let dir = scratch("churn-out");
    let output = FolderStore::new(dir.join("out"));
    let topics = MemoryTopics::default();
    let first = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(
        matches!(first, Err(TransientError::Store(_))),
        "for Lambda to retry: {first:?}"
    );
    assert!(topics.messages().is_empty(), "nothing announced");
    // The retry, once the uploads have stopped: the outputs of the photo at the key.
    let retry = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(matches!(retry, Ok(Outcome::Analyzed { .. })), "{retry:?}");
    assert_eq!(tree(&dir.join("out")), expected);
    assert_eq!(summary(&topics.messages()[0].1), expected_summary);
}

/// What a [`RefusingStore`] refuses for good.
#[derive(Clone, Copy, PartialEq)]
enum Refused {
    /// Any object, while it tells of it (as S3 does one archived to Glacier, or encrypted with
    /// a key the function may not use).
    Reads,
    /// Any object's version (HeadObject denied).
    Versions,
    /// Any deletion (DeleteObject denied).
    Deletes,
}

/// The folder store, refusing for good what `refused` says.
struct RefusingStore {
    inner: FolderStore,
    refused: Refused,
}

impl ObjectStore for RefusingStore {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        if self.refused == Refused::Reads {
            let refusal = "403 InvalidObjectState (injected)";
            return Err(StoreError::permanent("get", key, refusal));
        }
        self.inner.get(key, max_bytes).await
    }

    async fn version(&self, key: &str) -> Result<Option<String>, StoreError> {
        if self.refused == Refused::Versions {
            let refusal = "403 AccessDenied (injected)";
            return Err(StoreError::permanent("head", key, refusal));
        }
        self.inner.version(key).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        self.inner.put(key, bytes, content_type).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        if self.refused == Refused::Deletes {
            let refusal = "403 AccessDenied (injected)";
            return Err(StoreError::permanent("delete", key, refusal));
        }
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_check_refused_for_good_keeps_the_round_s_outcome() {
    let (input, upload) = one_upload("secretive-in", "obama.jpg");
    let input = RefusingStore {
        inner: input,
        refused: Refused::Versions,
    };
    let (outcome, dir, topics) = ingest_fresh("secretive-out", &upload, &input).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
    assert_eq!(tree(&dir.join("out")).len(), 4);
    let messages = topics.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].1.contains("photo.analyzed"),
        "{}",
        messages[0].1
    );
}

#[tokio::test]
async fn an_upload_there_but_refused_for_good_is_reported_once_with_its_old_outputs_removed() {
    let (input, upload) = one_upload("refused-in", "obama.jpg");
    let dir = scratch("refused-out");
    let output = FolderStore::new(dir.join("out"));
    let topics = MemoryTopics::default();
    let made = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(matches!(made, Ok(Outcome::Analyzed { .. })), "{made:?}");
    // Refused now, but still there: one round, not three and a retry.
    let refused = ingest_upload(
        &upload,
        &RefusingStore {
            inner: input,
            refused: Refused::Reads,
        },
        &output,
        &topics,
        &settings(),
    )
    .await;
    assert!(
        matches!(&refused, Ok(Outcome::Failed { kind, .. }) if kind == "input"),
        "{refused:?}"
    );
    assert!(
        tree(&dir.join("out")).is_empty(),
        "the earlier outputs are removed"
    );
    let messages = topics.messages();
    assert_eq!(messages.len(), 2);
    assert!(
        messages[1].1.contains("InvalidObjectState"),
        "{}",
        messages[1].1
    );
}

#[tokio::test]
async fn outputs_the_store_will_not_delete_are_named_in_the_failure() {
    let (input, upload) = one_upload("undeletable-in", "obama.jpg");
    let dir = scratch("undeletable-out");
    let topics = MemoryTopics::default();
    let made = ingest_upload(
        &upload,
        &input,
        &FolderStore::new(dir.join("out")),
        &topics,
        &settings(),
    )
    .await;
    assert!(matches!(made, Ok(Outcome::Analyzed { .. })), "{made:?}");
    let before = tree(&dir.join("out"));
    // The photo is replaced by bytes that do not decode; its old outputs cannot be deleted.
    input
        .put(
            &upload.key,
            b"\xff\xd8\xff not a JPEG".to_vec(),
            "image/jpeg",
        )
        .await
        .expect("put");
    let output = RefusingStore {
        inner: FolderStore::new(dir.join("out")),
        refused: Refused::Deletes,
    };
    let failed = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    let Ok(Outcome::Failed { message, .. }) = failed else {
        panic!("{failed:?}")
    };
    assert_eq!(tree(&dir.join("out")), before, "nothing could be deleted");
    // The failure names every output left.
    assert_eq!(before.len(), 4, "three renditions and the analysis");
    let published = topics.messages().last().expect("photo.failed").1.clone();
    assert!(published.contains("photo.failed"), "{published}");
    for key in before.keys() {
        let key = key.to_string_lossy();
        assert!(published.contains(&*key), "{key}: {published}");
    }
    assert!(
        message.contains("the store refused to delete, so these may remain"),
        "{message}"
    );

    // A render refused when delivered again says the same of the file it could not withdraw.
    let request = small_render_request(&upload.key, None);
    let done = run_render(
        Ok(request.clone()),
        &one_upload("undeletable-render-in", "obama.jpg").0,
        &output,
        &topics,
        &render_settings(),
    )
    .await;
    let Ok(RenderOutcome::Done { key }) = done else {
        panic!("{done:?}")
    };
    let refused = run_render(Ok(request), &input, &output, &topics, &render_settings()).await;
    assert!(
        matches!(&refused, Ok(RenderOutcome::Failed(e))
            if e.message.ends_with(&format!("so these may remain: {key})"))),
        "{refused:?}"
    );
    assert!(dir.join("out").join(&key).is_file());
}

/// A photo name in folders of 100 bytes (a file system takes 255 a name) that makes an upload
/// key of `key_bytes` bytes.
fn long_name(key_bytes: usize) -> String {
    let mut name = String::new();
    while "uploads/".len() + name.len() + 100 + ".jpg".len() < key_bytes {
        name += &format!("{}/", "k".repeat(99));
    }
    let rest = key_bytes - "uploads/".len() - name.len() - ".jpg".len();
    format!("{name}{}.jpg", "k".repeat(rest))
}

#[tokio::test]
async fn a_key_whose_outputs_s3_cannot_take_is_refused_before_any_work() {
    // 1,020 bytes: a valid S3 key, but without the `uploads/` prefix and as
    // `analysis/<key>.json`, 1,026 (`renditions/<key>/2048.jpg`, 1,032).
    let (input, upload) = one_upload("long-key-in", &long_name(1020));
    assert_eq!(upload.key.len(), 1020);
    let dir = scratch("long-key-out");
    let topics = FileTopics::new(dir.join("events"), dir.join("failures"));
    let output = FolderStore::new(dir.join("out"));
    let outcome = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(
        matches!(&outcome, Ok(Outcome::Failed { kind, .. }) if kind == "invalid_key"),
        "{outcome:?}"
    );
    let failed = failures(&topics, &dir.join("failures"));
    assert_eq!(failed.len(), 1);
    let message = failed[0]["message"].as_str().expect("message");
    assert!(
        message.contains(".json\" would be 1026 bytes; S3 takes at most 1024"),
        "{message}"
    );
    assert!(!dir.join("out").exists(), "nothing written");

    // 8 bytes shorter, the longest output key is 1,024 bytes: it goes through.
    let (input, upload) = one_upload("long-key-in", &long_name(1012));
    let outcome = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_key_refused_for_a_longer_size_loses_the_outputs_an_earlier_run_stored() {
    // 1,012 bytes: every output at 2048, 1024 and 256 px fits (the longest is 1,024 bytes);
    // a rendition at 100000 px would be 1,026.
    let (input, upload) = one_upload("long-key-rerun-in", &long_name(1012));
    let relative = upload
        .key
        .strip_prefix("uploads/")
        .expect("prefix")
        .to_string();
    let dir = scratch("long-key-rerun-out");
    let topics = FileTopics::new(dir.join("events"), dir.join("failures"));
    let output = FolderStore::new(dir.join("out"));
    let made = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(matches!(made, Ok(Outcome::Analyzed { .. })), "{made:?}");
    let stored = |key: String| dir.join("out").join(key).is_file();
    assert!(stored(analysis_key(&relative)) && stored(rendition_key(&relative, 2048)));

    let mut longer = settings();
    longer.renditions.sizes = vec![2048, 100_000];
    let refused = ingest_upload(&upload, &input, &output, &topics, &longer).await;
    assert!(
        matches!(&refused, Ok(Outcome::Failed { kind, .. }) if kind == "invalid_key"),
        "{refused:?}"
    );
    let failed = failures(&topics, &dir.join("failures"));
    let message = failed[0]["message"].as_str().expect("message");
    assert!(message.contains("would be 1026 bytes"), "{message}");
    assert!(
        !message.contains("may remain"),
        "every delete went through: {message}"
    );
    // No output is left for a failed photo: the analysis and the 2048-px rendition are gone
    // (the 1024 and 256 px ones are not of this run's sizes, as for any failure).
    assert!(!stored(analysis_key(&relative)), "the analysis is removed");
    assert!(
        !stored(rendition_key(&relative, 2048)),
        "the rendition is removed"
    );
    assert!(stored(rendition_key(&relative, 1024)));
}

#[tokio::test]
async fn a_folder_placeholder_is_skipped_without_a_failure() {
    let (input, _) = one_upload("placeholder-in", "a.jpg");
    let dir = scratch("placeholder-out");
    let topics = FileTopics::new(dir.join("events"), dir.join("failures"));
    let output = FolderStore::new(dir.join("out"));
    for key in ["uploads/2024/", "uploads/2024/summer/"] {
        let upload = Upload {
            bucket: "uploads-bucket".into(),
            key: key.into(),
        };
        let outcome = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
        assert!(
            matches!(outcome, Ok(Outcome::Skipped)),
            "{key}: {outcome:?}"
        );
    }
    assert_eq!(
        topics.count(Topic::Events) + topics.count(Topic::Failures),
        0
    );
}

fn render_request(photo: &str) -> serde_json::Value {
    serde_json::json!({"type": "render.requested", "request_id": "r1", "photo": photo,
        "placement": {"x": 0, "y": 0, "width": 400, "height": 400, "rot": 0},
        "width": 200, "height": 200})
}

#[tokio::test]
async fn a_render_the_store_refuses_for_good_is_reported_not_retried() {
    let (input, upload) = one_upload("render-refused-in", "obama.jpg");
    let dir = scratch("render-refused-out");
    let output = FolderStore::new(dir.join("out"));
    let topics = MemoryTopics::default();
    let settings = RenderSettings {
        input_prefix: "uploads/".into(),
        ..RenderSettings::default()
    };
    let request = render_request(&upload.key);
    let done = run_render(Ok(request.clone()), &input, &output, &topics, &settings).await;
    let Ok(RenderOutcome::Done { key }) = done else {
        panic!("{done:?}")
    };
    // A folder where the file goes: the store refuses the write for good.
    std::fs::remove_file(dir.join("out").join(&key)).expect("the render");
    std::fs::create_dir_all(dir.join("out").join(&key)).expect("a folder in its place");
    let refused = run_render(Ok(request), &input, &output, &topics, &settings).await;
    assert!(
        matches!(&refused, Ok(RenderOutcome::Failed(e)) if e.kind == "output"),
        "{refused:?}"
    );
    let messages = topics.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].0, Topic::Failures);
    assert!(messages[1].1.contains("render.failed"), "{}", messages[1].1);
}

#[tokio::test]
async fn a_render_key_s3_cannot_take_is_refused_before_the_photo_is_read() {
    let dir = scratch("render-long-key");
    let store = FolderStore::new(&dir);
    let topics = MemoryTopics::default();
    let settings = RenderSettings {
        input_prefix: "uploads/".into(),
        ..RenderSettings::default()
    };
    // No such photo: were the key checked after reading, this would be `not_found`.
    let request = render_request(&format!("uploads/{}", long_name(1000)));
    let outcome = run_render(Ok(request), &store, &store, &topics, &settings).await;
    assert!(
        matches!(&outcome, Ok(RenderOutcome::Failed(e))
            if e.kind == "invalid_key" && e.message.contains("S3 takes at most 1024")),
        "{outcome:?}"
    );
}

/// Obama's portrait ingested into `<name>-out/out` (from `<name>-in`), and a layout request
/// for it with the settings that find it: the folder, the output store, the topics (the
/// ingest's announcement on them), the request and the settings.
async fn layout_of_one(
    name: &str,
) -> (
    PathBuf,
    FolderStore,
    MemoryTopics,
    serde_json::Value,
    LayoutSettings,
) {
    let (input, upload) = one_upload(&format!("{name}-in"), "obama.jpg");
    let dir = scratch(&format!("{name}-out"));
    let output = FolderStore::new(dir.join("out"));
    let topics = MemoryTopics::default();
    let ingested = ingest_upload(&upload, &input, &output, &topics, &settings()).await;
    assert!(
        matches!(ingested, Ok(Outcome::Analyzed { .. })),
        "{ingested:?}"
    );
    let request = serde_json::json!({"type": "layout.requested", "request_id": "r",
        "book_id": "b", "photos": [upload.key], "surfaces": [{"surface_number": 1,
        "page": {"width": 100, "height": 100, "dpi": 300},
        "slots": [{"x": 0, "y": 0, "w": 100, "h": 100}]}]});
    let layout_settings = LayoutSettings {
        input_prefix: "uploads/".into(),
        ..LayoutSettings::default()
    };
    (dir, output, topics, request, layout_settings)
}

#[tokio::test]
async fn a_layout_the_store_refuses_for_good_is_reported_not_retried() {
    let (dir, output, topics, request, layout_settings) = layout_of_one("layout-refused").await;
    let ready = run_layout(Ok(request.clone()), &output, &topics, &layout_settings).await;
    let Ok(LayoutOutcome::Ready { key }) = ready else {
        panic!("{ready:?}")
    };
    std::fs::remove_file(dir.join("out").join(&key)).expect("the layout");
    std::fs::create_dir_all(dir.join("out").join(&key)).expect("a folder in its place");
    let refused = run_layout(Ok(request), &output, &topics, &layout_settings).await;
    assert!(
        matches!(&refused, Ok(LayoutOutcome::Failed(e)) if e.kind == "output"),
        "{refused:?}"
    );
    let last = topics.messages().pop().expect("messages");
    assert_eq!(last.0, Topic::Failures);
    assert!(last.1.contains("layout.failed"), "{}", last.1);
}

/// `FolderStore::get` run on a thread of its own, given 10 s: `None` if it is still waiting.
fn get_within_10s(
    root: &Path,
    key: &str,
    max_bytes: u64,
) -> Option<Result<Result<Vec<u8>, TooLarge>, StoreError>> {
    let (store, key) = (FolderStore::new(root), key.to_string());
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let _ = done.send(
            runtime
                .block_on(store.get(&key, max_bytes))
                .map(|f| f.bytes),
        );
    });
    match result.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(read) => Some(read),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the read panicked"),
    }
}

#[test]
fn the_folder_store_reads_up_to_the_limit_and_no_further() {
    let dir = scratch("limit-get");
    std::fs::write(dir.join("ten.bin"), b"0123456789").expect("file");
    std::fs::create_dir_all(dir.join("folder.jpg")).expect("folder");
    let get = |root: &Path, key: &str, max_bytes: u64| {
        get_within_10s(root, key, max_bytes).expect("an answer within 10 s")
    };
    assert_eq!(
        get(&dir, "ten.bin", 10).expect("read"),
        Ok(b"0123456789".to_vec())
    );
    assert_eq!(
        get(&dir, "ten.bin", 9).expect("read"),
        Err(TooLarge { size: Some(10) })
    );
    // A file whose length says 0 and that holds more (as one that grew since it was
    // measured): the limit is found by counting.
    #[cfg(target_os = "linux")]
    {
        let proc = Path::new("/proc/self");
        let status = get(proc, "status", 1_000_000)
            .expect("read")
            .expect("small");
        assert!(status.len() > 100, "{} bytes", status.len());
        assert_eq!(
            std::fs::metadata(proc.join("status"))
                .expect("status")
                .len(),
            0
        );
        assert_eq!(
            get(proc, "status", 100).expect("read"),
            Err(TooLarge { size: None })
        );
    }
    let not_a_file = |e: StoreError| e.retry == Retry::Permanent && e.message == "not a file";
    assert!(get(&dir, "folder.jpg", 100).is_err_and(not_a_file));
    // A FIFO neither, refused at once: its opening does not wait for a writer.
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.jpg"))
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    assert!(get(&dir, "pipe.jpg", 100).is_err_and(not_a_file));
    // A socket cannot even be opened: refused for good, not retried.
    let _listener =
        std::os::unix::net::UnixListener::bind(dir.join("socket.jpg")).expect("a socket");
    assert!(get(&dir, "socket.jpg", 100).is_err_and(not_a_file));
}

#[tokio::test]
async fn an_upload_over_the_byte_limit_fails_as_limits_and_writes_nothing() {
    let (input, upload) = one_upload("limit-in", "obama.jpg");
    let size = test_support::photos_dir()
        .join("faces/obama_official_portrait.jpg")
        .metadata()
        .expect("photo")
        .len();
    let dir = scratch("limit-out");
    std::fs::create_dir_all(dir.join("out")).expect("output folder");
    let topics = FileTopics::new(dir.join("events"), dir.join("failures"));
    let mut settings = settings();
    settings.renditions.limits.max_input_bytes = size - 1;
    let outcome = ingest_upload(
        &upload,
        &input,
        &FolderStore::new(dir.join("out")),
        &topics,
        &settings,
    )
    .await;
    assert!(
        matches!(&outcome, Ok(Outcome::Failed { kind, .. }) if kind == "limits"),
        "{outcome:?}"
    );
    let failed = failures(&topics, &dir.join("failures"));
    assert_eq!(
        failed[0]["message"],
        format!("input is {size} bytes, over the limit of {}", size - 1)
    );
    assert_eq!(topics.count(Topic::Events), 0);
    assert!(tree(&dir.join("out")).is_empty());

    // At the limit exactly, the photo goes through.
    settings.renditions.limits.max_input_bytes = size;
    let outcome = ingest_upload(
        &upload,
        &input,
        &FolderStore::new(dir.join("out")),
        &topics,
        &settings,
    )
    .await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_render_of_an_original_over_the_byte_limit_fails_as_limits() {
    let (input, upload) = one_upload("render-limit-in", "obama.jpg");
    let dir = scratch("render-limit-out");
    std::fs::create_dir_all(dir.join("out")).expect("output folder");
    let topics = MemoryTopics::default();
    let mut settings = RenderSettings {
        input_prefix: "uploads/".into(),
        ..RenderSettings::default()
    };
    settings.limits.max_input_bytes = 1000;
    let outcome = run_render(
        Ok(render_request(&upload.key)),
        &input,
        &FolderStore::new(dir.join("out")),
        &topics,
        &settings,
    )
    .await;
    assert!(
        matches!(&outcome, Ok(RenderOutcome::Failed(e))
            if e.kind == "limits" && e.message.ends_with("bytes, over the limit of 1000")),
        "{outcome:?}"
    );
    assert!(tree(&dir.join("out")).is_empty());
}

#[tokio::test]
async fn an_analysis_over_a_megabyte_is_reported_not_read() {
    let (dir, output, topics, request, layout_settings) = layout_of_one("layout-limit").await;
    // The same analysis, still valid JSON, padded past a megabyte with white space.
    let analysis = dir.join("out/analysis/obama.jpg.json");
    let mut padded = std::fs::read(&analysis).expect("the analysis");
    padded.resize(padded.len().max(1 << 20) + 1, b' ');
    std::fs::write(&analysis, padded).expect("padded");
    let outcome = run_layout(Ok(request), &output, &topics, &layout_settings).await;
    assert!(
        matches!(&outcome, Ok(LayoutOutcome::Failed(e)) if e.kind == "bad_analysis"
            && e.message.contains("over the limit of 1048576")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_record_whose_key_cannot_be_decoded_is_checked_for_its_bucket_and_prefix_first() {
    let settings = IngestSettings {
        input_bucket: Some("uploads-bucket".into()),
        ..settings()
    };
    let bad = |bucket: &str, raw: &str| BadRecord {
        bucket: bucket.into(),
        raw_key: raw.into(),
        error: KeyError::BadEscape(raw.into()),
    };
    let refused = |outcome: Result<Outcome, TransientError>| match outcome {
        Ok(Outcome::Failed { kind, .. }) => kind,
        other => panic!("{other:?}"),
    };
    // Another bucket: wrong_bucket, as for a key that decodes.
    let topics = MemoryTopics::default();
    let outcome = refuse_bad_record(&bad("evil", "uploads/x%zz.jpg"), &topics, &settings).await;
    assert_eq!(refused(outcome), "wrong_bucket");
    let messages = topics.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].1.contains("\"wrong_bucket\""),
        "{}",
        messages[0].1
    );
    // Outside the input prefix: not ours, nothing said.
    let topics = MemoryTopics::default();
    let outcome = refuse_bad_record(&bad("uploads-bucket", "other/50%"), &topics, &settings).await;
    assert!(matches!(outcome, Ok(Outcome::Skipped)), "{outcome:?}");
    assert!(topics.messages().is_empty());
    // Ours: invalid_key, naming the key as the event wrote it.
    let topics = MemoryTopics::default();
    let outcome = refuse_bad_record(
        &bad("uploads-bucket", "uploads/50%.jpg"),
        &topics,
        &settings,
    )
    .await;
    assert_eq!(refused(outcome), "invalid_key");
    let messages = topics.messages();
    assert_eq!(messages.len(), 1);
    let failed: serde_json::Value = serde_json::from_str(&messages[0].1).expect("JSON");
    assert_eq!(
        (failed["kind"].as_str(), failed["key"].as_str()),
        (Some("invalid_key"), Some("uploads/50%.jpg"))
    );
}

/// A render request for a 100-px square at the top left of `photo` (both portraits have one).
fn small_render_request(photo: &str, sha256: Option<&str>) -> serde_json::Value {
    let mut request = render_request(photo);
    request["placement"] = serde_json::json!({"x": 0, "y": 0, "width": 100, "height": 100});
    request["width"] = 100.into();
    request["height"] = 100.into();
    if let Some(sha) = sha256 {
        request["sha256"] = sha.into();
    }
    request
}

fn render_settings() -> RenderSettings {
    RenderSettings {
        input_prefix: "uploads/".into(),
        ..RenderSettings::default()
    }
}

/// `request` rendered from `input` into the fresh folder `name`: the outcome, that folder and
/// what was published.
async fn render_fresh(
    name: &str,
    input: &impl ObjectStore,
    request: serde_json::Value,
) -> (Result<RenderOutcome, TransientError>, PathBuf, MemoryTopics) {
    let dir = scratch(name);
    let topics = MemoryTopics::default();
    let output = FolderStore::new(&dir);
    let outcome = run_render(Ok(request), input, &output, &topics, &render_settings()).await;
    (outcome, dir, topics)
}

#[tokio::test]
async fn a_photo_replaced_while_it_is_rendered_ends_with_the_new_photo_s_render() {
    // Hopper's portrait rendered on its own: the file expected at the key.
    let (reference_in, upload) = one_upload("render-replaced-ref-in", "obama.jpg");
    reference_in
        .put(&upload.key, photo("faces/hopper.jpg"), "image/jpeg")
        .await
        .expect("put");
    let request = small_render_request(&upload.key, None);
    let (done, reference, _) =
        render_fresh("render-replaced-ref-out", &reference_in, request.clone()).await;
    assert!(matches!(done, Ok(RenderOutcome::Done { .. })), "{done:?}");

    // Obama's portrait at the key, replaced by Hopper's just after the first read.
    let (input, _) = one_upload("render-replaced-in", "obama.jpg");
    let input = BusyStore::new(input, [Meanwhile::Upload(photo("faces/hopper.jpg"))]);
    let (done, dir, topics) = render_fresh("render-replaced-out", &input, request).await;
    assert!(matches!(done, Ok(RenderOutcome::Done { .. })), "{done:?}");
    assert_eq!(tree(&dir), tree(&reference), "the new photo's render");
    let messages = topics.messages();
    assert_eq!(
        messages.len(),
        1,
        "one announcement, of the new photo's render"
    );
    let announced: serde_json::Value = serde_json::from_str(&messages[0].1).expect("JSON");
    assert_eq!(
        announced["sha256"].as_str(),
        Some(imaging_core::sha256_hex(&photo("faces/hopper.jpg")).as_str())
    );
}

#[tokio::test]
async fn a_photo_uploaded_while_its_ingest_found_none_is_processed() {
    let (expected, expected_summary) = hopper_reference("late").await;
    let (input, upload) = one_upload("late-in", "obama.jpg");
    input.delete(&upload.key).await.expect("delete");
    let input = BusyStore::new(input, [Meanwhile::Upload(photo("faces/hopper.jpg"))]);
    let (outcome, dir, topics) = ingest_fresh("late-out", &upload, &input).await;
    assert!(
        matches!(outcome, Ok(Outcome::Analyzed { .. })),
        "{outcome:?}"
    );
    assert_eq!(tree(&dir.join("out")), expected);
    let messages = topics.messages();
    assert_eq!(messages.len(), 1, "photo.analyzed only, no not_found");
    assert_eq!(summary(&messages[0].1), expected_summary);
}

#[tokio::test]
async fn a_photo_uploaded_while_its_render_found_none_is_rendered() {
    let (input, upload) = one_upload("render-late-in", "obama.jpg");
    input.delete(&upload.key).await.expect("delete");
    let input = BusyStore::new(input, [Meanwhile::Upload(photo("faces/hopper.jpg"))]);
    let request = small_render_request(&upload.key, None);
    let (done, _, topics) = render_fresh("render-late-out", &input, request).await;
    assert!(matches!(done, Ok(RenderOutcome::Done { .. })), "{done:?}");
    let messages = topics.messages();
    assert_eq!(messages.len(), 1, "render.done only, no not_found");
    assert!(messages[0].1.contains("render.done"), "{}", messages[0].1);
}

#[tokio::test]
async fn a_photo_replaced_in_every_round_of_its_render_fails_for_a_retry() {
    let (input, upload) = one_upload("render-restless-in", "obama.jpg");
    let uploads = (0..3).map(|i| {
        let name = ["faces/hopper.jpg", "faces/obama_official_portrait.jpg"][i % 2];
        Meanwhile::Upload(photo(name))
    });
    let input = BusyStore::new(input, uploads);
    let request = small_render_request(&upload.key, None);
    let (outcome, _, topics) = render_fresh("render-restless-out", &input, request).await;
    assert!(
        matches!(&outcome, Err(e) if e.to_string().contains("in each of 3 rounds")),
        "{outcome:?}"
    );
    assert_eq!(topics.messages().len(), 0, "nothing announced");
}

#[tokio::test]
async fn a_render_naming_another_photo_s_sha256_is_refused_and_withdraws_an_earlier_file() {
    let (input, upload) = one_upload("render-changed-in", "obama.jpg");
    let obama = imaging_core::sha256_hex(&photo("faces/obama_official_portrait.jpg"));
    let dir = scratch("render-changed-out");
    let output = FolderStore::new(&dir);
    let topics = MemoryTopics::default();
    let request = small_render_request(&upload.key, Some(&obama));
    let done = run_render(
        Ok(request.clone()),
        &input,
        &output,
        &topics,
        &render_settings(),
    )
    .await;
    let Ok(RenderOutcome::Done { key }) = done else {
        panic!("{done:?}")
    };
    assert!(dir.join(&key).is_file());
    let announced: serde_json::Value = serde_json::from_str(&topics.messages()[0].1).expect("JSON");
    assert_eq!(announced["sha256"].as_str(), Some(obama.as_str()));

    // The photo is replaced; the same request, delivered again, names the old one.
    input
        .put(&upload.key, photo("faces/hopper.jpg"), "image/jpeg")
        .await
        .expect("put");
    let refused = run_render(Ok(request), &input, &output, &topics, &render_settings()).await;
    let hopper = imaging_core::sha256_hex(&photo("faces/hopper.jpg"));
    assert!(
        matches!(&refused, Ok(RenderOutcome::Failed(e)) if e.kind == "photo_changed"
            && e.message.contains(&hopper) && e.message.contains(&obama)),
        "{refused:?}"
    );
    assert!(
        tree(&dir).is_empty(),
        "the earlier delivery's file is withdrawn"
    );
    let messages = topics.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].0, Topic::Failures);
}
