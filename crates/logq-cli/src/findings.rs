//! The problems one segment shows on its own: turning a [`SegmentReport`] into the lines
//! `verify` prints (gaps between segments are found in `analysis::analyze_log`).

use crate::analysis::{DataState, SegmentReport};
use crate::problem::{Problem, ProblemKind};
use crate::scan::HeaderState;
use logq_log::format::names;
use std::path::Path;

impl SegmentReport {
    /// The problems this segment shows on its own (not counting gaps between segments).
    pub fn problems(&self) -> Vec<Problem> {
        let problem = |byte: Option<u64>, kind, message: String| Problem {
            file: self.display.clone(),
            byte,
            kind,
            message,
        };
        let mut out = Vec::new();
        match &self.data {
            DataState::Foreign => out.push(problem(
                Some(0),
                ProblemKind::Foreign,
                "not a logq segment: the first 8 bytes are not the segment magic".into(),
            )),
            DataState::Unfinished => out.push(problem(
                Some(0),
                ProblemKind::Unfinished,
                format!(
                    "unfinished segment ({}; no batch follows): a crash during a roll; would be removed on open",
                    header_reason(&self.header)
                ),
            )),
            DataState::TornTail(_) => {
                if let Some(first) = self.damage.first() {
                    let after = if first.later_offsets.is_some() {
                        "; the batches after it were never durable"
                    } else {
                        ""
                    };
                    out.push(problem(
                        Some(first.position),
                        ProblemKind::TornTail,
                        format!(
                            "torn tail at byte {} (would be cut on open): {}{after}; {} bytes, offsets from {}",
                            first.position,
                            first.reason,
                            self.file_len - first.position,
                            first.expected_offset
                        ),
                    ));
                }
            }
            DataState::Corrupt(_) | DataState::Ok => {
                for d in &self.damage {
                    let follows = d.later_offsets.map_or_else(
                        || "nothing valid follows in this file".to_string(),
                        |(a, b)| format!("valid batches with offsets {a}..{b} follow"),
                    );
                    let verdict = if self.is_tail {
                        "open refuses it (Strict) or quarantines it"
                    } else {
                        "a sealed segment"
                    };
                    out.push(problem(
                        Some(d.position),
                        ProblemKind::Corrupt,
                        format!(
                            "{} ({} damaged bytes, offsets from {} unreadable; {follows}; {verdict})",
                            d.reason, d.len, d.expected_offset
                        ),
                    ));
                }
            }
        }
        if self.data == DataState::Ok && !self.index.is_healthy() {
            let index_name = names::index_file_name(self.file.base_offset);
            let shown = Path::new(&self.display)
                .with_file_name(&index_name)
                .display()
                .to_string();
            out.push(Problem {
                file: shown,
                byte: None,
                kind: ProblemKind::Index,
                message: format!(
                    "index {} (derived data: rebuilt from the segment on next read)",
                    self.index
                ),
            });
        }
        out
    }
}

fn header_reason(header: &HeaderState) -> String {
    match header {
        HeaderState::Damaged(why) => why.clone(),
        other => format!("{other:?}"),
    }
}
