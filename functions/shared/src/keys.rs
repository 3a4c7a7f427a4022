//! Object keys: decoding them from S3 events and mapping them to output keys.

/// Why a key from an event cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A `%` not followed by two hex digits.
    #[error("malformed percent-escape in key {0:?}")]
    BadEscape(String),
    /// The decoded bytes are not UTF-8.
    #[error("key is not UTF-8 once decoded: {0:?}")]
    NotUtf8(String),
    /// Empty, or with a component that could leave a folder (`..`, `.`, empty, absolute).
    #[error("unsafe key {0:?}")]
    Unsafe(String),
    /// An output key would be longer than S3 takes ([`MAX_KEY_BYTES`]).
    #[error("output key {key:?} would be {bytes} bytes; S3 takes at most {MAX_KEY_BYTES}")]
    TooLong {
        /// The output key.
        key: String,
        /// Its length in bytes.
        bytes: usize,
    },
}

/// Longest object key S3 takes, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks that an output key is short enough for S3: an upload key near the limit cannot
/// get its longer output keys, which is refused before any work (`invalid_key`), not retried.
pub fn check_length(key: &str) -> Result<(), KeyError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong {
            key: key.to_string(),
            bytes: key.len(),
        });
    }
    Ok(())
}

/// Decodes a key as S3 writes it in event notifications: `+` is a space, `%XX` a byte, and the
/// bytes are UTF-8.
pub fn decode_event_key(raw: &str) -> Result<String, KeyError> {
    let (bytes, well_formed) = unescape(raw);
    if !well_formed {
        return Err(KeyError::BadEscape(raw.to_string()));
    }
    String::from_utf8(bytes).map_err(|_| KeyError::NotUtf8(raw.to_string()))
}

/// [`decode_event_key`] as far as it goes: a malformed escape is kept as written and bytes that
/// are not UTF-8 become U+FFFD. For telling where a key that cannot be decoded lies (its
/// prefix), never for naming an object.
pub fn decode_event_key_lossy(raw: &str) -> String {
    String::from_utf8_lossy(&unescape(raw).0).into_owned()
}

/// The bytes `raw` stands for (`+` a space, `%XX` a byte), and whether every `%` was followed
/// by two hex digits (a `%` that is not is kept as it is).
fn unescape(raw: &str) -> (Vec<u8>, bool) {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut well_formed = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                // Two hex digits and nothing else: `from_str_radix` alone also takes a sign,
                // so `%+1` would be read as the byte 1.
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => {
                        out.push(b'%');
                        well_formed = false;
                    }
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    (out, well_formed)
}

/// Checks that a key is a relative path of normal components (no `..`, `.`, empty parts,
/// leading `/` or NUL), so it can never address anything outside a store's folder or prefix.
pub fn check_safe(key: &str) -> Result<(), KeyError> {
    let unsafe_part = |part: &str| {
        part.is_empty() || part == "." || part == ".." || part.contains('\0') || part.contains('\\')
    };
    if key.is_empty() || key.split('/').any(unsafe_part) {
        return Err(KeyError::Unsafe(key.to_string()));
    }
    Ok(())
}

/// Output key of a rendition of photo `key` (relative to the input prefix).
pub fn rendition_key(key: &str, max_side: u32) -> String {
    format!("renditions/{key}/{max_side}.jpg")
}

/// Output key of the analysis document of photo `key`.
pub fn analysis_key(key: &str) -> String {
    format!("analysis/{key}.json")
}

/// Every output key of photo `key` with renditions of `sizes`: the analysis, then each
/// rendition.
pub fn output_keys<'a>(key: &'a str, sizes: &'a [u32]) -> impl Iterator<Item = String> + 'a {
    std::iter::once(analysis_key(key))
        .chain(sizes.iter().map(move |&side| rendition_key(key, side)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_escapes_and_unicode() {
        assert_eq!(
            decode_event_key("holiday+photos/IMG+1.jpg").as_deref(),
            Ok("holiday photos/IMG 1.jpg")
        );
        assert_eq!(
            decode_event_key("caf%C3%A9/%F0%9F%93%B7.heic").as_deref(),
            Ok("café/📷.heic")
        );
        assert_eq!(decode_event_key("a%2Bb.jpg").as_deref(), Ok("a+b.jpg"));
        assert!(matches!(
            decode_event_key("bad%2"),
            Err(KeyError::BadEscape(_))
        ));
        assert!(matches!(
            decode_event_key("bad%zz"),
            Err(KeyError::BadEscape(_))
        ));
        for signed in ["%+1", "%+E.jpg", "a%-1", "%+"] {
            assert!(
                matches!(decode_event_key(signed), Err(KeyError::BadEscape(_))),
                "{signed:?}"
            );
        }
        assert!(matches!(
            decode_event_key("%FF%FE"),
            Err(KeyError::NotUtf8(_))
        ));
        // As far as it goes: bad escapes kept as written, other bytes as U+FFFD.
        assert_eq!(
            decode_event_key_lossy("up+loads/50%.jpg"),
            "up loads/50%.jpg"
        );
        assert_eq!(decode_event_key_lossy("a%2Bb%zz%+1"), "a+b%zz% 1");
        assert_eq!(decode_event_key_lossy("caf%C3%A9%FF"), "café\u{fffd}");
    }

    #[test]
    fn refuses_keys_that_could_escape() {
        for bad in [
            "",
            "../etc/passwd",
            "a/../../b",
            "/abs.jpg",
            "a//b.jpg",
            "a/./b",
            "nul\0.jpg",
            "dir/",
        ] {
            assert!(check_safe(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a.jpg",
            "2024/beach/IMG 1.HEIC",
            "café/📷.heic",
            "..hidden.jpg",
        ] {
            assert!(check_safe(good).is_ok(), "{good:?}");
        }
    }
}
