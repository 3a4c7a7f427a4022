//! Uploads named by an incoming event: an S3 event notification, or the same delivered through
//! an SNS topic (S3 → SNS → Lambda fan-out). Events are read as plain JSON, field by field, so
//! that a malformed or hostile event is a clear error rather than a panic or a silent skip.

use crate::ingest::Upload;
use crate::keys::{decode_event_key, KeyError};
use serde_json::Value;

/// The event as a whole cannot be read: nothing in it can be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed event: {0}")]
pub struct MalformedEvent(pub String);

/// A record that names no usable upload.
#[derive(Debug, Clone)]
pub struct BadRecord {
    /// The bucket, as far as known.
    pub bucket: String,
    /// The key as the event wrote it.
    pub raw_key: String,
    /// Why it cannot be used.
    pub error: KeyError,
}

/// The uploads of every `ObjectCreated:*` record, keys decoded (`+` is a space, `%XX`
/// escapes, UTF-8). Other S3 event types (deletions) and S3's test event are left out.
pub fn uploads(event: &Value) -> Result<Vec<Result<Upload, BadRecord>>, MalformedEvent> {
    let mut out = Vec::new();
    collect(event, &mut out, 0)?;
    Ok(out)
}

fn collect(
    event: &Value,
    out: &mut Vec<Result<Upload, BadRecord>>,
    depth: u8,
) -> Result<(), MalformedEvent> {
    if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(()); // sent once when a notification is configured
    }
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| MalformedEvent("no Records array".into()))?;
    for (i, record) in records.iter().enumerate() {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        if text(record.get("EventSource")).as_deref() == Some("aws:sns") {
            // One level of SNS wrapping, no more: an SNS message holding SNS records is refused.
            if depth > 0 {
                return Err(MalformedEvent(format!("record {i}: nested SNS envelope")));
            }
            let message = text(record.pointer("/Sns/Message")).ok_or_else(|| {
                MalformedEvent(format!("record {i}: SNS record without Sns.Message"))
            })?;
            let inner: Value = serde_json::from_str(&message)
                .map_err(|e| MalformedEvent(format!("record {i}: SNS message is not JSON: {e}")))?;
            collect(&inner, out, depth + 1)?;
            continue;
        }
        if text(record.get("eventSource")).as_deref() != Some("aws:s3") {
            return Err(MalformedEvent(format!(
                "record {i}: neither an S3 nor an SNS record"
            )));
        }
        let name = text(record.get("eventName")).unwrap_or_default();
        if !name.starts_with("ObjectCreated") {
            continue;
        }
        let bucket = text(record.pointer("/s3/bucket/name"))
            .ok_or_else(|| MalformedEvent(format!("record {i}: no s3.bucket.name")))?;
        let raw_key = text(record.pointer("/s3/object/key"))
            .ok_or_else(|| MalformedEvent(format!("record {i}: no s3.object.key")))?;
        out.push(match decode_event_key(&raw_key) {
            Ok(key) => Ok(Upload { bucket, key }),
            Err(error) => Err(BadRecord {
                bucket,
                raw_key,
                error,
            }),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_record(name: &str, key: &str) -> Value {
        json!({"eventSource": "aws:s3", "eventName": name, "s3": {"bucket": {"name": "up"}, "object": {"key": key}}})
    }

    #[test]
    fn reads_direct_and_sns_wrapped_s3_events() {
        let direct = json!({"Records": [s3_record("ObjectCreated:Put", "a+b.jpg"), s3_record("ObjectRemoved:Delete", "c.jpg")]});
        let uploads = uploads(&direct).expect("valid");
        assert_eq!(uploads.len(), 1);
        assert_eq!(
            uploads[0].as_ref().map(|u| u.key.as_str()).ok(),
            Some("a b.jpg")
        );

        let wrapped = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": direct.to_string()}}]});
        assert_eq!(super::uploads(&wrapped).expect("valid").len(), 1);
        let test_event = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{\"Event\":\"s3:TestEvent\"}"}}]});
        assert!(super::uploads(&test_event).expect("valid").is_empty());
    }

    #[test]
    fn malformed_events_are_errors_and_bad_keys_are_per_record() {
        for bad in [
            json!({}),
            json!({"Records": "x"}),
            json!({"Records": [{"eventSource": "aws:sqs"}]}),
            json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}),
            json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "not json"}}]}),
        ] {
            assert!(uploads(&bad).is_err(), "{bad}");
        }
        let nested = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message":
            json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}).to_string()}}]});
        assert!(uploads(&nested).is_err());
        let bad_key = json!({"Records": [s3_record("ObjectCreated:Put", "bad%zz")]});
        assert!(uploads(&bad_key).expect("valid")[0].is_err());
    }
}
