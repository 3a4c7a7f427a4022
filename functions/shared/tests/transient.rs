//! A transient storage failure in the middle of a photo: the use-case returns an error (so
//! Lambda retries the event), announces nothing, and the retry completes the photo with exactly
//! the keys and bytes of a run that never failed. The store is the real folder store; only the
//! fault is injected (issue 6 adds the same against moto behind a faulty proxy).

use photo_suite_functions::ingest::{
    ingest_upload, IngestSettings, Outcome, TransientError, Upload,
};
use photo_suite_functions::local::{FileTopics, FolderStore};
use photo_suite_functions::ports::{ObjectStore, StoreError, Topic};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use test_support::tree;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The folder store, with its `fail_at`-th put (counting from 1) failing transiently.
struct FaultyStore {
    inner: FolderStore,
    puts: AtomicUsize,
    fail_at: usize,
}

impl ObjectStore for FaultyStore {
    async fn size(&self, key: &str) -> Result<u64, StoreError> {
        self.inner.size(key).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        if self.puts.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(StoreError::transient("put", key, "503 SlowDown (injected)"));
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
