//! What `enroll` and `sync` did, as JSON for scripts and as a sentence for
//! officers in Vietnamese or English.

use std::time::Duration;

use coso_domain::{Lang, Unit};
use serde::{Serialize, Serializer};

use crate::output::Render;

/// The outcome of `coso-agent enroll`.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollOutcome {
    pub unit: String,
    pub name: String,
    pub kind: String,
    pub ward: String,
    pub hub: String,
    pub catalog_version: u64,
    pub calendar_version: u64,
    /// Changes recorded offline before enrolling; the next sync sends them.
    pub pending_changes: u64,
    /// Entries of the unit's log a fresh store took over from the hub (a
    /// replacement laptop); 0 when the store had a log of its own.
    pub taken_over: u64,
}

impl EnrollOutcome {
    pub(crate) fn new(unit: &Unit, ward: String, hub: String) -> EnrollOutcome {
        EnrollOutcome {
            unit: unit.code.to_string(),
            name: unit.name.clone(),
            kind: unit.kind.to_string(),
            ward,
            hub,
            catalog_version: 0,
            calendar_version: 0,
            pending_changes: 0,
            taken_over: 0,
        }
    }

    /// The text shown to the officer, or with `json` one JSON document.
    pub fn render(&self, lang: Lang, json: bool) -> String {
        if json {
            return to_json(self);
        }
        self.text(lang)
    }

    fn text(&self, lang: Lang) -> String {
        let ward = if self.ward.is_empty() {
            lang.pick("máy chủ phường", "the ward hub").to_string()
        } else {
            self.ward.clone()
        };
        let mut out = match lang {
            Lang::Vi => format!(
                "Đã đăng ký đơn vị {} ({}) với {} tại {}.\nĐã nhận danh mục chỉ tiêu (phiên bản {}) và lịch báo cáo (phiên bản {}).",
                self.unit, self.name, ward, self.hub, self.catalog_version, self.calendar_version
            ),
            Lang::En => format!(
                "Enrolled unit {} ({}) with {} at {}.\nReceived the indicator catalog (version {}) and the reporting calendar (version {}).",
                self.unit, self.name, ward, self.hub, self.catalog_version, self.calendar_version
            ),
        };
        if self.taken_over > 0 {
            out.push('\n');
            out.push_str(&match lang {
                Lang::Vi => format!(
                    "Đã lấy về {} thay đổi của đơn vị mà phường đang giữ; máy này tiếp tục từ đó.",
                    self.taken_over
                ),
                Lang::En => format!(
                    "Took over the {} changes of the unit the ward holds; this computer carries on from there.",
                    self.taken_over
                ),
            });
        }
        if self.pending_changes > 0 {
            out.push('\n');
            out.push_str(&match lang {
                Lang::Vi => format!(
                    "{} thay đổi ghi trước khi đăng ký được giữ nguyên và sẽ gửi ở lần đồng bộ tới (coso-agent sync).",
                    self.pending_changes
                ),
                Lang::En => format!(
                    "{} changes recorded before enrolling are kept and will be sent by the next sync (coso-agent sync).",
                    self.pending_changes
                ),
            });
        }
        out
    }
}

/// The outcome of `coso-agent recover`.
#[derive(Debug, Clone, Serialize)]
pub struct RecoverOutcome {
    pub unit: String,
    /// Entries this copy and the hub held alike, from seq 1.
    pub common: u64,
    /// The hub's log this copy now starts from.
    pub hub_head: u64,
    /// This copy's own changes placed after the hub's log and sent.
    pub rebased: u64,
    /// Activities renamed because the hub's log used their id: [old, new].
    pub renamed: Vec<(String, String)>,
    /// The sync that sent them.
    pub sync: SyncReport,
}

impl RecoverOutcome {
    pub fn render(&self, lang: Lang, json: bool) -> String {
        if json {
            return to_json(self);
        }
        let mut out = match lang {
            Lang::Vi => format!(
                "Đã khôi phục đơn vị {}: lấy lại {} thay đổi phường đang giữ ({} thay đổi trùng với máy này), thêm {} thay đổi của máy này vào sau và đã gửi lên phường. Không thay đổi nào bị xóa; phòng VH-XH xem và quyết định trên dữ liệu của đơn vị.",
                self.unit, self.hub_head, self.common, self.rebased
            ),
            Lang::En => format!(
                "Recovered unit {}: took the {} changes the ward holds ({} shared with this copy), added this copy's {} changes after them and sent them. No change was deleted; VH-XH reviews the unit's data and decides.",
                self.unit, self.hub_head, self.common, self.rebased
            ),
        };
        for (old, new) in &self.renamed {
            out.push('\n');
            out.push_str(&match lang {
                Lang::Vi => format!("Hoạt động {old} của máy này nay mang mã {new} (mã cũ đã được bản sao kia dùng)."),
                Lang::En => format!("This copy's activity {old} is now {new} (the other copy used the old id)."),
            });
        }
        out
    }
}

/// The outcome of one `coso-agent sync`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub unit: String,
    pub hub: String,
    /// Entries the hub stored for the first time.
    pub pushed: u64,
    /// Entries sent again that the hub already held (their reply had been lost).
    pub skipped: u64,
    /// The hub's cursor after the sync: it holds this unit's log up to here.
    pub acked_seq: u64,
    /// The highest seq in this agent's log.
    pub agent_head: u64,
    /// The hub's cursor was below this agent's (it was restored from a backup).
    pub hub_behind: bool,
    pub pulled_reviews: u64,
    pub catalog_updated: bool,
    pub calendar_updated: bool,
    pub catalog_version: u64,
    pub calendar_version: u64,
    /// gRPC calls made, including Hello.
    pub round_trips: u32,
    /// Message bytes plus an estimate of per-call HTTP/2 framing; the TLS
    /// handshake (about 2-3 kB per connection) is not included.
    pub bytes_sent_approx: u64,
    pub bytes_received_approx: u64,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

fn size(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} B")
    } else if bytes < 10 * 1024 * 1024 {
        format!("{} kB", bytes / 1024)
    } else {
        format!("{} MB", bytes / (1024 * 1024))
    }
}

fn seconds(d: Duration, lang: Lang) -> String {
    let s = format!("{:.1}", d.as_secs_f64());
    match lang {
        Lang::Vi => format!("{} giây", s.replace('.', ",")),
        Lang::En => format!("{s} s"),
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("reports serialise to JSON")
}

impl SyncReport {
    /// The text shown to the officer, or with `json` one JSON document.
    pub fn render(&self, lang: Lang, json: bool) -> String {
        if json {
            return to_json(self);
        }
        self.text(lang)
    }

    /// One JSON document on one line, for `sync --watch --json`.
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).expect("reports serialise to JSON")
    }

    fn text(&self, lang: Lang) -> String {
        let mut lines = Vec::new();
        lines.push(match lang {
            Lang::Vi => format!(
                "Đã đồng bộ đơn vị {} với máy chủ phường {}.",
                self.unit, self.hub
            ),
            Lang::En => format!(
                "Synced unit {} with the ward hub at {}.",
                self.unit, self.hub
            ),
        });
        if self.hub_behind {
            lines.push(
                lang.pick(
                    "Máy chủ đã được khôi phục từ bản sao lưu cũ: đã gửi lại những thay đổi máy chủ còn thiếu.",
                    "The hub had been restored from an older backup: the changes it lacked were sent again.",
                )
                .to_string(),
            );
        }
        lines.push(match (lang, self.pushed + self.skipped) {
            (Lang::Vi, 0) => format!(
                "Không có thay đổi mới để gửi; máy chủ đã nhận đủ đến thay đổi số {}.",
                self.acked_seq
            ),
            (Lang::En, 0) => format!(
                "Nothing new to send; the hub holds every change up to seq {}.",
                self.acked_seq
            ),
            (Lang::Vi, _) => format!(
                "Đã gửi {} thay đổi mới{}; máy chủ đã nhận đủ đến thay đổi số {}.",
                self.pushed,
                if self.skipped > 0 {
                    format!(" ({} thay đổi máy chủ đã có)", self.skipped)
                } else {
                    String::new()
                },
                self.acked_seq
            ),
            (Lang::En, _) => format!(
                "Sent {} new changes{}; the hub holds every change up to seq {}.",
                self.pushed,
                if self.skipped > 0 {
                    format!(" ({} it already held)", self.skipped)
                } else {
                    String::new()
                },
                self.acked_seq
            ),
        });
        if self.pulled_reviews > 0 {
            lines.push(match lang {
                Lang::Vi => format!(
                    "Nhận {} kết quả duyệt báo cáo (xem: coso-agent status).",
                    self.pulled_reviews
                ),
                Lang::En => format!(
                    "Received {} review decisions (see: coso-agent status).",
                    self.pulled_reviews
                ),
            });
        }
        if self.catalog_updated {
            lines.push(match lang {
                Lang::Vi => format!(
                    "Đã cập nhật danh mục chỉ tiêu (phiên bản {}).",
                    self.catalog_version
                ),
                Lang::En => format!(
                    "Updated the indicator catalog (version {}).",
                    self.catalog_version
                ),
            });
        }
        if self.calendar_updated {
            lines.push(match lang {
                Lang::Vi => format!(
                    "Đã cập nhật lịch báo cáo (phiên bản {}).",
                    self.calendar_version
                ),
                Lang::En => format!(
                    "Updated the reporting calendar (version {}).",
                    self.calendar_version
                ),
            });
        }
        lines.push(match lang {
            Lang::Vi => format!(
                "({}, khoảng {} gửi đi, {} nhận về)",
                seconds(self.elapsed, lang),
                size(self.bytes_sent_approx),
                size(self.bytes_received_approx)
            ),
            Lang::En => format!(
                "({}, about {} sent, {} received)",
                seconds(self.elapsed, lang),
                size(self.bytes_sent_approx),
                size(self.bytes_received_approx)
            ),
        });
        lines.join("\n")
    }

    /// One line for each round of `sync --watch`.
    pub fn render_short(&self, lang: Lang) -> String {
        let now = chrono::Utc::now()
            .with_timezone(&coso_domain::calendar::vietnam())
            .format("%H:%M:%S");
        match lang {
            Lang::Vi => format!(
                "[{now}] đã đồng bộ: gửi {} thay đổi mới, máy chủ nhận đến số {}{}",
                self.pushed,
                self.acked_seq,
                if self.pulled_reviews > 0 {
                    format!(", nhận {} kết quả duyệt", self.pulled_reviews)
                } else {
                    String::new()
                }
            ),
            Lang::En => format!(
                "[{now}] synced: sent {} new changes, the hub holds up to seq {}{}",
                self.pushed,
                self.acked_seq,
                if self.pulled_reviews > 0 {
                    format!(", received {} review decisions", self.pulled_reviews)
                } else {
                    String::new()
                }
            ),
        }
    }
}

// The CLI prints these as every command's outcome; `render` stays the one
// place each is worded.
impl Render for EnrollOutcome {
    fn text(&self, lang: Lang) -> String {
        self.render(lang, false)
    }

    fn json(&self, lang: Lang) -> Option<String> {
        Some(self.render(lang, true))
    }
}

impl Render for RecoverOutcome {
    fn text(&self, lang: Lang) -> String {
        self.render(lang, false)
    }

    fn json(&self, lang: Lang) -> Option<String> {
        Some(self.render(lang, true))
    }
}

impl Render for SyncReport {
    fn text(&self, lang: Lang) -> String {
        self.render(lang, false)
    }

    fn json(&self, lang: Lang) -> Option<String> {
        Some(self.render(lang, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_both_languages_and_json() {
        let r = SyncReport {
            unit: "TDP05".into(),
            hub: "127.0.0.1:7443".into(),
            pushed: 12,
            skipped: 2,
            acked_seq: 57,
            agent_head: 57,
            pulled_reviews: 1,
            catalog_updated: true,
            catalog_version: 3,
            elapsed: Duration::from_millis(420),
            bytes_sent_approx: 2048,
            ..SyncReport::default()
        };
        let vi = r.render(Lang::Vi, false);
        assert!(vi.contains("Đã gửi 12 thay đổi mới (2 thay đổi máy chủ đã có)"));
        assert!(vi.contains("0,4 giây"));
        assert!(vi.contains("danh mục chỉ tiêu (phiên bản 3)"));
        let en = r.render(Lang::En, false);
        assert!(en.contains("Sent 12 new changes (2 it already held)"));
        let json: serde_json::Value = serde_json::from_str(&r.render(Lang::En, true)).unwrap();
        assert_eq!(json["elapsed_ms"], 420);
        assert_eq!(json["acked_seq"], 57);
        assert_eq!(json["bytes_sent_approx"], 2048);
    }
}
