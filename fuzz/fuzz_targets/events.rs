//! Bytes → the ingest Lambda's event handling: JSON, S3 event records (direct or wrapped in one
//! SNS envelope), key decoding (`+`, `%XX`, UTF-8), the key safety check, output keys and the
//! `photo.failed` message of a bad record. The same bytes, when UTF-8, are also fed to the key
//! decoder and the safety check as a raw key.
//!
//! Nothing here may panic. The key decoder agrees with a plain reference decoder written here,
//! a decoded key survives a round trip through the encoding S3 uses, and a key the safety check
//! passes has no component that could leave a folder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use photo_suite_functions::events::uploads;
use photo_suite_functions::keys::{analysis_key, check_safe, decode_event_key, rendition_key};
use photo_suite_functions::messages::{Message, PhotoFailed};
use serde_json::Value;

/// Percent-encodes a key as an event notification may carry it: unreserved bytes as they are,
/// every other byte as `%XX`, `+` and `%` included (S3 itself writes a space as `+`).
fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The reference: `+` is a space, `%` must be followed by exactly two hex digits, and the bytes
/// must be UTF-8; `None` for anything else.
fn reference_decode(raw: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let digit = |d: Option<u8>| char::from(d?).to_digit(16);
                let hi = digit(bytes.next())?;
                let lo = digit(bytes.next())?;
                u8::try_from(hi * 16 + lo).ok()?
            }
            b => b,
        });
    }
    String::from_utf8(out).ok()
}

fn check_key(key: &str) {
    assert_eq!(decode_event_key(&encode_key(key)).as_deref(), Ok(key));
    if check_safe(key).is_ok() {
        assert!(!key.is_empty() && !key.starts_with('/'));
        assert!(key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".."));
        assert!(rendition_key(key, 256).ends_with("/256.jpg"));
        assert!(analysis_key(key).ends_with(".json"));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = std::str::from_utf8(data) {
        let decoded = decode_event_key(raw);
        assert_eq!(
            decoded.as_ref().ok(),
            reference_decode(raw).as_ref(),
            "{raw:?}"
        );
        if let Ok(key) = decoded {
            check_key(&key);
        }
        let _ = check_safe(raw);
    }
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(records) = uploads(&event) else {
        return;
    };
    for record in records {
        match record {
            Ok(upload) => check_key(&upload.key),
            Err(bad) => {
                let failed = Message::PhotoFailed(PhotoFailed {
                    bucket: bad.bucket,
                    key: bad.raw_key,
                    etag: None,
                    kind: "invalid_key".into(),
                    message: bad.error.to_string(),
                });
                serde_json::to_string(&failed).expect("photo.failed serializes");
            }
        }
    }
});
