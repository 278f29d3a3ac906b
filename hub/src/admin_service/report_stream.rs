//! `CompileReport` as a server stream: a first message with the report's
//! media type and size, then its bytes in chunks of [`CHUNK`], cut lazily
//! as tonic pulls them, so neither side ever holds the report as one gRPC
//! message and any size travels under the default message limit.

use std::pin::Pin;

use coso_proto::pb;
use tokio_stream::Stream;
use tonic::Status;

use coso_ward::Report;

/// Bytes per message: far under the default 4 MiB limit (and under the
/// HTTP/2 window, so a chunk is never stalled half-sent).
pub const CHUNK: usize = 256 * 1024;

pub type ReportStream =
    Pin<Box<dyn Stream<Item = Result<pb::CompileReportResponse, Status>> + Send>>;

/// The messages of one compiled report, in order.
pub fn messages(report: Report) -> impl Iterator<Item = pb::CompileReportResponse> + Send {
    let head = pb::CompileReportResponse {
        content: Vec::new(),
        media_type: report.media_type.to_string(),
        size: report.content.len() as u64,
    };
    let content = report.content;
    let chunks = content.len().div_ceil(CHUNK);
    std::iter::once(head).chain((0..chunks).map(move |i| {
        let end = ((i + 1) * CHUNK).min(content.len());
        pb::CompileReportResponse {
            content: content[i * CHUNK..end].to_vec(),
            ..Default::default()
        }
    }))
}

pub fn stream(report: Report) -> ReportStream {
    Box::pin(tokio_stream::iter(messages(report).map(Ok)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(len: usize) -> Report {
        Report {
            content: (0..len).map(|i| (i % 251) as u8).collect(),
            media_type: "application/json",
            file_name: "bao-cao-2026-H1.json".into(),
        }
    }

    #[test]
    fn the_first_message_says_what_follows_and_the_chunks_add_up() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let want = report(len).content;
            let msgs: Vec<_> = messages(report(len)).collect();
            assert_eq!(msgs[0].media_type, "application/json");
            assert_eq!(msgs[0].size, len as u64);
            assert!(msgs[0].content.is_empty());
            assert_eq!(msgs.len(), 1 + len.div_ceil(CHUNK), "{len}");
            assert!(msgs[1..].iter().all(|m| m.content.len() <= CHUNK
                && !m.content.is_empty()
                && m.media_type.is_empty()
                && m.size == 0));
            let got: Vec<u8> = msgs[1..].iter().flat_map(|m| m.content.clone()).collect();
            assert_eq!(got, want, "{len}");
        }
    }
}
