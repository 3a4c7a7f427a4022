//! Replays `fuzz/regressions/events/` (what the `events` fuzz target found, and hand-made hostile
//! events) through the code that target fuzzes: the bytes as an event, and, when they are UTF-8,
//! as a raw key. Each file's outcome is pinned; none may panic.

use photo_suite_functions::events::uploads;
use photo_suite_functions::keys::{check_safe, decode_event_key, KeyError};
use serde_json::Value;

/// What must become of a file read as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Not JSON, or not an event: the whole event is refused.
    Malformed,
    /// An upload record whose key cannot be decoded: refused for that record alone.
    BadKey,
    /// A key that decodes, but to a path that could leave its folder.
    UnsafeKey,
}

use Expected::*;

const REGRESSIONS: &[(&str, Expected)] = &[
    // Found by the fuzzer: `%+1` was read as the byte 0x01 (`u8::from_str_radix` takes a sign).
    ("crash-key-escape-with-plus-sign", Malformed),
    // Hand-made.
    ("bad-key-plus-sign-escape.json", BadKey),
    ("bad-key-truncated-escape.json", BadKey),
    ("bad-key-truncated-utf8.json", BadKey),
    ("malformed-deep-nesting.json", Malformed),
    ("malformed-nested-sns.json", Malformed),
    ("malformed-sns-message-array.json", Malformed),
    ("malformed-truncated-sns.json", Malformed),
    ("unsafe-key-escaped-dotdot.json", UnsafeKey),
    ("unsafe-key-escaped-nul.json", UnsafeKey),
];

fn outcome(bytes: &[u8]) -> Expected {
    let Ok(event) = serde_json::from_slice::<Value>(bytes) else {
        return Malformed;
    };
    let Ok(records) = uploads(&event) else {
        return Malformed;
    };
    let mut found = Vec::new();
    for record in records {
        match record {
            Err(_) => found.push(BadKey),
            Ok(upload) if check_safe(&upload.key).is_err() => found.push(UnsafeKey),
            Ok(_) => {}
        }
    }
    found
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no hostile record in {found:?}"))
}

/// A key decodes only when each `%` is followed by two hex digits.
fn check_raw_key(name: &str, raw: &str) {
    let escapes_are_hex = raw
        .split('%')
        .skip(1)
        .all(|after| after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    match decode_event_key(raw) {
        Ok(_) => assert!(escapes_are_hex, "{name}: {raw:?} decoded"),
        Err(KeyError::BadEscape(_)) => assert!(!escapes_are_hex, "{name}: {raw:?} refused"),
        Err(KeyError::NotUtf8(_)) => assert!(escapes_are_hex, "{name}: {raw:?}"),
        Err(e) => panic!("{name}: decoding is not a safety check, got {e}"),
    }
}

#[test]
fn every_regression_input_has_its_pinned_outcome() {
    let pinned: Vec<&str> = REGRESSIONS.iter().map(|(name, _)| *name).collect();
    let inputs = test_support::fuzz_regressions("events", &pinned);
    for (name, expected) in REGRESSIONS {
        let bytes = &inputs[*name];
        assert_eq!(outcome(bytes), *expected, "{name}");
        if let Ok(raw) = std::str::from_utf8(bytes) {
            check_raw_key(name, raw);
        }
    }
}
