//! The progress bar a long push shows on a terminal.

use std::io::IsTerminal;

use coso_domain::Lang;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::SyncOptions;

/// A progress bar on stderr for syncs of more than one batch, shown only to
/// people (a terminal, not JSON).
pub(super) struct Progress {
    enabled: bool,
    lang: Lang,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub(super) fn new(opts: &SyncOptions) -> Progress {
        Progress {
            enabled: opts.progress && !opts.json && std::io::stderr().is_terminal(),
            lang: opts.lang,
            bar: None,
        }
    }

    pub(super) fn start(&mut self, total: u64, batch: usize) {
        if !self.enabled || total <= batch as u64 || self.bar.is_some() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(self.lang.pick("Đang gửi thay đổi", "Sending changes"));
        self.bar = Some(bar);
    }

    pub(super) fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
