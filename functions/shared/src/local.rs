//! Local adapters: a folder as a bucket, files as topics. Used by the CLI and the tests.

use crate::keys::check_safe;
use crate::messages::Message;
use crate::ports::{Fetched, ObjectStore, PublishError, Publisher, StoreError, TooLarge, Topic};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A folder used as a bucket: key `a/b.jpg` is file `ROOT/a/b.jpg`. Keys that could leave
/// the folder (`..`, absolute, ...) are refused.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    /// A store over `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderStore { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, operation: &'static str, key: &str) -> Result<PathBuf, StoreError> {
        check_safe(key).map_err(|e| StoreError::permanent(operation, key, e))?;
        Ok(self.root.join(key))
    }

    /// Every key in the folder (recursively, sorted), skipping hidden files and folders and
    /// the folder `exclude` (an output folder inside the input folder) with all under it.
    ///
    /// Symbolic links are followed. A folder reached twice (a link to a folder listed
    /// elsewhere, or back up the tree) is listed once: under its real path when that lies in
    /// the folder, as real folders are walked before links to folders, else under the first
    /// link to it in name order. What is there but cannot be a key or be read (a name that is
    /// not UTF-8, a broken link, a folder that cannot be listed, a FIFO or device) is returned
    /// beside the keys, so that it is reported rather than passed over; only the folder itself
    /// failing to list is an error. The result depends only on the tree, not on the order the
    /// file system lists a folder in.
    pub fn list(&self, exclude: Option<&Path>) -> io::Result<Listing> {
        let exclude = exclude.and_then(|p| std::fs::canonicalize(p).ok());
        let mut listing = Listing::default();
        let mut seen = std::collections::HashSet::new();
        // Real folders first (a stack, depth first, names in order), then the folder links.
        let mut folders = vec![(self.root.clone(), String::new())];
        let mut links = std::collections::VecDeque::new();
        while let Some((dir, prefix)) = folders.pop().or_else(|| links.pop_front()) {
            let canonical = std::fs::canonicalize(&dir).ok();
            let excluded = |c: &PathBuf| exclude.as_ref().is_some_and(|e| c.starts_with(e));
            if canonical.as_ref().is_some_and(excluded) {
                continue;
            }
            if !seen.insert(canonical.unwrap_or_else(|| dir.clone())) {
                continue; // a folder already listed
            }
            let here = if prefix.is_empty() {
                ".".to_string()
            } else {
                prefix.trim_end_matches('/').to_string()
            };
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if prefix.is_empty() => return Err(e),
                Err(e) => {
                    listing.unlisted(here, Unlisted::Unreadable(format!("cannot list: {e}")));
                    continue;
                }
            };
            let mut named = Vec::new();
            for entry in entries {
                match entry {
                    Ok(entry) => named.push((entry.file_name(), entry.path())),
                    Err(e) => listing.unlisted(here.clone(), Unlisted::Unreadable(e.to_string())),
                }
            }
            named.sort();
            let mut subfolders = Vec::new();
            for (raw, path) in named {
                if raw.as_encoded_bytes().starts_with(b".") {
                    continue; // hidden
                }
                let Some(name) = raw.to_str() else {
                    let key = format!("{prefix}{}", raw.to_string_lossy());
                    listing.unlisted(key, Unlisted::NotUtf8);
                    continue;
                };
                let key = format!("{prefix}{name}");
                let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                // Through links: what they point to.
                match std::fs::metadata(&path) {
                    Ok(meta) if meta.is_dir() && is_link => links.push_back((path, key + "/")),
                    Ok(meta) if meta.is_dir() => subfolders.push((path, key + "/")),
                    Ok(meta) if meta.is_file() => listing.keys.push(key),
                    Ok(_) => listing.unlisted(key, Unlisted::NotAFile),
                    Err(e) => listing.unlisted(key, Unlisted::Unreadable(e.to_string())),
                }
            }
            folders.extend(subfolders.into_iter().rev());
        }
        listing.keys.sort();
        listing.unreadable.sort();
        Ok(listing)
    }
}

/// What [`FolderStore::list`] found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The files' keys, sorted.
    pub keys: Vec<String>,
    /// What is there but was not listed as a key: its path in the folder (as far as it can be
    /// printed; `.` for the folder itself) and why, sorted.
    pub unreadable: Vec<(String, Unlisted)>,
}

impl Listing {
    fn unlisted(&mut self, path: String, why: Unlisted) {
        self.unreadable.push((path, why));
    }
}

/// Why something in a folder was not listed as a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
pub enum Unlisted {
    /// Its name is not UTF-8: keys are UTF-8, as S3's are.
    #[error("the file name is not UTF-8")]
    NotUtf8,
    /// A FIFO, a socket or a device.
    #[error("not a regular file")]
    NotAFile,
    /// It cannot be read: a broken link, a folder that cannot be listed.
    #[error("{0}")]
    Unreadable(String),
}

fn io_error(operation: &'static str, key: &str, e: io::Error) -> StoreError {
    // A socket, a device without its driver (ENXIO, ENODEV: no error kind of their own).
    #[cfg(unix)]
    if matches!(e.raw_os_error(), Some(libc::ENXIO | libc::ENODEV)) {
        return StoreError::permanent(operation, key, e);
    }
    match e.kind() {
        io::ErrorKind::NotFound => StoreError::not_found(operation, key),
        // What retrying cannot change: the file system refuses this name or this place.
        io::ErrorKind::PermissionDenied
        | io::ErrorKind::InvalidInput
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::NotADirectory
        | io::ErrorKind::AlreadyExists
        | io::ErrorKind::InvalidFilename
        | io::ErrorKind::ReadOnlyFilesystem => StoreError::permanent(operation, key, e),
        _ => StoreError::transient(operation, key, e),
    }
}

/// Whether an error reading or deleting a key's file means that no object has the key: no file
/// there, a file where a folder of the key would be, or a name longer than the file system
/// holds (as S3 would answer a key that was never written).
fn absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename
    )
}

/// Reads a regular file whole when it holds at most `max_bytes`, else [`TooLarge`]: its length
/// is checked on the open file, and at most `max_bytes + 1` bytes are read (one past the limit
/// tells a file that grew since it was measured). What is not a regular file is refused as
/// "not a file" (`InvalidInput`) before it is opened (opening a FIFO waits for a writer, a
/// socket cannot be opened, a device may act on being opened), and again on the open file,
/// for one swapped in meanwhile: that opening does not wait (`O_NONBLOCK`) nor take a terminal
/// (`O_NOCTTY`). The version is the open file's: its device, inode, length and modification time.
pub fn read_capped(path: &Path, max_bytes: u64) -> io::Result<Fetched> {
    use std::io::Read;
    let not_a_file = || io::Error::new(io::ErrorKind::InvalidInput, "not a file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_a_file());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    let version = file_version(&meta);
    if meta.len() > max_bytes {
        let bytes = Err(TooLarge {
            size: Some(meta.len()),
        });
        return Ok(Fetched { bytes, version });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let bytes = if bytes.len() as u64 > max_bytes {
        Err(TooLarge { size: None })
    } else {
        Ok(bytes)
    };
    Ok(Fetched { bytes, version })
}

/// A file's version: its device and inode, length and modification time, so that a file
/// replaced (as [`FolderStore::put`] does, by renaming a new file into place) has another. A
/// file rewritten in place to the same length within one tick of the kernel's clock (a few
/// ms) keeps its version; on systems other than Unix, only the length and time count.
fn file_version(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!(
            "{:x}-{:x}-{:x}-{modified:x}",
            meta.dev(),
            meta.ino(),
            meta.len()
        )
    }
    #[cfg(not(unix))]
    format!("{:x}-{modified:x}", meta.len())
}

impl ObjectStore for FolderStore {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        let path = self.path("get", key)?;
        tokio::task::spawn_blocking(move || read_capped(&path, max_bytes))
            .await
            .map_err(|e| StoreError::transient("get", key, e))?
            .map_err(|e| {
                if absent(&e) {
                    StoreError::not_found("get", key)
                } else {
                    io_error("get", key, e)
                }
            })
    }

    async fn version(&self, key: &str) -> Result<Option<String>, StoreError> {
        let path = self.path("head", key)?;
        match tokio::fs::metadata(path).await {
            Ok(meta) if meta.is_file() => Ok(Some(file_version(&meta))),
            Ok(_) => Ok(None),
            Err(e) if absent(&e) => Ok(None),
            Err(e) => Err(io_error("head", key, e)),
        }
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &'static str,
    ) -> Result<(), StoreError> {
        let path = self.path("put", key)?;
        let err = |e| io_error("put", key, e);
        // Whole or nothing: write beside, then rename into place.
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        // A concurrent delete prunes the folders it leaves empty, possibly one just created for
        // this file: create them again (a few times) if they vanished before the write.
        let mut attempts = 0;
        loop {
            let written = match path.parent() {
                Some(parent) => tokio::fs::create_dir_all(parent).await,
                None => Ok(()),
            };
            let written = match written {
                Ok(()) => tokio::fs::write(&partial, &bytes).await,
                Err(e) => Err(e),
            };
            match written {
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 8 => attempts += 1,
                result => break result.map_err(err)?,
            }
        }
        if let Err(e) = tokio::fs::rename(&partial, &path).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(err(e));
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path("delete", key)?;
        match tokio::fs::remove_file(&path).await {
            // No such object: nothing to do.
            Err(e) if !absent(&e) => return Err(io_error("delete", key, e)),
            _ => {}
        }
        // Like a bucket, the folder has no empty "directories" left behind: prune them.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != self.root) {
            if tokio::fs::remove_dir(d).await.is_err() {
                break; // not empty (or already gone)
            }
            dir = d.parent();
        }
        Ok(())
    }
}

/// A message as one line of JSON, as the local topics keep it.
fn json_line(message: &Message) -> Result<String, PublishError> {
    serde_json::to_string(message).map_err(|e| PublishError {
        message_type: message.type_name(),
        message: e.to_string(),
    })
}

/// Files as topics: each topic is a JSON-lines file. Messages are kept until [`FileTopics::flush`],
/// which writes them sorted by key, so a run's files do not depend on the order photos finished.
#[derive(Debug)]
pub struct FileTopics {
    events: PathBuf,
    failures: PathBuf,
    pending: Mutex<Vec<(Topic, String, String)>>,
}

impl FileTopics {
    /// Topics written to the files `events` and `failures`.
    pub fn new(events: impl Into<PathBuf>, failures: impl Into<PathBuf>) -> Self {
        FileTopics {
            events: events.into(),
            failures: failures.into(),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// How many messages were published on `topic` so far.
    pub fn count(&self, topic: Topic) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(t, _, _)| *t == topic)
            .count()
    }

    /// Writes both files (each sorted by key, one JSON message per line), replacing old ones.
    pub fn flush(&self) -> io::Result<()> {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        pending.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        for (topic, path) in [
            (Topic::Events, &self.events),
            (Topic::Failures, &self.failures),
        ] {
            let text: String = pending
                .iter()
                .filter(|(t, _, _)| *t == topic)
                .map(|(_, _, line)| format!("{line}\n"))
                .collect();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut partial = path.clone().into_os_string();
            partial.push(".partial");
            std::fs::write(&partial, text)?;
            std::fs::rename(&partial, path)?;
        }
        Ok(())
    }
}

impl Publisher for FileTopics {
    async fn publish(&self, message: &Message) -> Result<(), PublishError> {
        let line = json_line(message)?;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((message.topic(), message.key().to_string(), line));
        Ok(())
    }
}

/// Topics kept in memory, for one-shot commands (the CLI's `layout` and `render` print what was
/// published) and tests.
#[derive(Debug, Default)]
pub struct MemoryTopics {
    published: Mutex<Vec<(Topic, String)>>,
}

impl MemoryTopics {
    /// Every message published so far, in order, as `(topic, JSON text)`.
    pub fn messages(&self) -> Vec<(Topic, String)> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Publisher for MemoryTopics {
    async fn publish(&self, message: &Message) -> Result<(), PublishError> {
        let line = json_line(message)?;
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((message.topic(), line));
        Ok(())
    }
}
