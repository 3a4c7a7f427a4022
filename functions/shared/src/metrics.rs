//! Metrics in CloudWatch Embedded Metric Format: one JSON log line per invocation, which
//! CloudWatch turns into metrics without any API call.

use serde_json::json;

/// Counters and timings of one invocation.
#[derive(Debug, Clone, Default)]
pub struct IngestMetrics {
    /// Photos stored and announced.
    pub processed: u64,
    /// Photos refused for good.
    pub failed: u64,
    /// Bytes read from the uploads bucket.
    pub bytes_in: u64,
    /// Milliseconds reading uploads.
    pub download_ms: f64,
    /// Milliseconds decoding, resizing and encoding.
    pub process_ms: f64,
    /// Milliseconds writing outputs.
    pub upload_ms: f64,
}

impl IngestMetrics {
    /// The EMF document, with `timestamp_ms` as its time.
    pub fn to_emf(&self, function: &str, timestamp_ms: u128) -> serde_json::Value {
        let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
        json!({
            "_aws": {
                "Timestamp": timestamp_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": "PhotoSuite",
                    "Dimensions": [["Function"]],
                    "Metrics": [
                        metric("PhotosProcessed", "Count"),
                        metric("PhotosFailed", "Count"),
                        metric("BytesIn", "Bytes"),
                        metric("DownloadMs", "Milliseconds"),
                        metric("ProcessMs", "Milliseconds"),
                        metric("UploadMs", "Milliseconds"),
                    ],
                }],
            },
            "Function": function,
            "PhotosProcessed": self.processed,
            "PhotosFailed": self.failed,
            "BytesIn": self.bytes_in,
            "DownloadMs": self.download_ms,
            "ProcessMs": self.process_ms,
            "UploadMs": self.upload_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value() {
        let doc = IngestMetrics {
            processed: 2,
            ..Default::default()
        }
        .to_emf("ingest", 1);
        let declared = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
            .clone();
        assert_eq!(declared.len(), 6);
        for m in declared {
            let name = m["Name"].as_str().expect("name");
            assert!(doc[name].is_number(), "{name}");
        }
        assert_eq!(doc["PhotosProcessed"], 2);
    }
}
