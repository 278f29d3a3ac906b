//! A generated ward: units, and for each unit a year of activities, indicator
//! values and narratives in realistic Vietnamese. Deterministic for a seed, so
//! the demo and the tests can recompute every total independently.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use coso_domain::catalog::{CmpOp, ValueType};
use coso_domain::{Catalog, Form, Section, UnitKind};

/// What happens to a unit's report in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Submits before the deadline.
    OnTime,
    /// Submits after the deadline.
    Late,
    /// Records data and syncs, never submits.
    Draft,
    /// Enrols but sends nothing.
    Missing,
    /// Submits on time, is returned by VH-XH, fixes and resubmits.
    Returned,
}

#[derive(Debug, Clone)]
pub struct PlannedActivity {
    pub date: NaiveDate,
    pub form: Form,
    pub title: String,
    pub participants: u32,
}

#[derive(Debug, Clone)]
pub struct UnitPlan {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub fate: Fate,
    pub activities: Vec<PlannedActivity>,
    /// Entered values as typed on the command line (`CODE=VALUE`).
    pub values: BTreeMap<String, String>,
    pub notes: Vec<(Section, String)>,
}

/// A small deterministic generator (xorshift64*), so no dependency is needed
/// and every run of the demo tells the same story.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
}

const TITLES: &[(Form, &[&str])] = &[
    (
        Form::Document,
        &[
            "Kế hoạch triển khai thực hiện dân chủ ở cơ sở năm 2026",
            "Văn bản hướng dẫn thực hiện Nghị quyết số 36/NQ-HĐND",
            "Quy chế dân chủ trong hoạt động của đơn vị (sửa đổi)",
        ],
    ),
    (
        Form::Conference,
        &[
            "Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở",
            "Hội nghị đại biểu cử tri và nhân dân",
            "Hội nghị triển khai Kế hoạch số 153/KH-UBND",
        ],
    ),
    (
        Form::Training,
        &[
            "Tập huấn nghiệp vụ thực hiện dân chủ ở cơ sở",
            "Bồi dưỡng kỹ năng đối thoại với Nhân dân",
        ],
    ),
    (
        Form::SocialNetwork,
        &[
            "Đăng tin trên nhóm Zalo của tổ dân phố về phương châm \"Dân biết, dân bàn\"",
            "Chia sẻ bài viết về Nghị định 59/2023/NĐ-CP trên Facebook",
        ],
    ),
    (
        Form::WebPortal,
        &[
            "Đăng tải kế hoạch lên trang thông tin điện tử phường",
            "Công khai thủ tục hành chính trên cổng thông tin",
        ],
    ),
    (
        Form::PartyCell,
        &["Lồng ghép nội dung dân chủ ở cơ sở trong sinh hoạt chi bộ tháng"],
    ),
    (
        Form::Briefing,
        &[
            "Giao ban tháng: đánh giá việc thực hiện quy chế dân chủ",
            "Giao ban quý về công tác dân vận",
        ],
    ),
    (
        Form::Other,
        &[
            "Tuyên truyền qua hệ thống loa truyền thanh",
            "Phát tờ rơi đến từng hộ gia đình",
        ],
    ),
];

const RESULTS: &[&str] = &[
    "Đã tổ chức quán triệt đầy đủ Luật Thực hiện dân chủ ở cơ sở đến toàn thể cán bộ và Nhân dân; các nội dung công khai được niêm yết đúng thời hạn.",
    "Nhân dân tích cực tham gia ý kiến vào các nội dung của phường; nhiều kiến nghị được tiếp thu, giải quyết kịp thời.",
    "Duy trì tốt việc công khai thông tin tại bảng tin và qua nhóm Zalo; các hội nghị được tổ chức đúng quy định.",
];
const DIFFICULTIES: &[&str] = &[
    "Một bộ phận người dân còn chưa quan tâm đến việc tham gia ý kiến; việc tổ chức họp gặp khó khăn do thời gian của người lao động.",
    "Cơ sở vật chất phục vụ hội nghị còn hạn chế; kinh phí tuyên truyền chưa đáp ứng yêu cầu.",
    "Việc sắp xếp lại tổ dân phố năm 2026 làm thay đổi đầu mối, ảnh hưởng đến tiến độ triển khai.",
];
const PROPOSALS: &[&str] = &[
    "Đề nghị UBND phường tổ chức thêm các lớp tập huấn kỹ năng cho Tổ trưởng tổ dân phố.",
    "Đề nghị bổ sung kinh phí cho hoạt động của Ban Thanh tra nhân dân và Ban Giám sát đầu tư của cộng đồng.",
];
const NEXT: &[&str] = &[
    "Tiếp tục đẩy mạnh tuyên truyền, nâng cao chất lượng hội nghị cử tri; thực hiện nghiêm việc công khai theo quy định.",
    "Kiện toàn Ban Thanh tra nhân dân; tăng cường đối thoại, giải quyết dứt điểm các kiến nghị của Nhân dân.",
];

/// The units of a ward like Gia Viên: the Centre, departments, schools and
/// `groups` residential groups.
pub fn units(groups: usize) -> Vec<(String, String, UnitKind)> {
    let mut out = vec![
        (
            "TTPVHCC".to_string(),
            "Trung tâm Phục vụ hành chính công phường".to_string(),
            UnitKind::Centre,
        ),
        (
            "VP".into(),
            "Văn phòng HĐND và UBND phường".into(),
            UnitKind::Department,
        ),
        (
            "PKT".into(),
            "Phòng Kinh tế, Hạ tầng và Đô thị".into(),
            UnitKind::Department,
        ),
        (
            "PVHXH".into(),
            "Phòng Văn hóa - Xã hội".into(),
            UnitKind::Department,
        ),
        (
            "TH-GV".into(),
            "Trường Tiểu học Gia Viên".into(),
            UnitKind::School,
        ),
        (
            "THCS-GV".into(),
            "Trường THCS Gia Viên".into(),
            UnitKind::School,
        ),
        (
            "MN-HS".into(),
            "Trường Mầm non Hoa Sen".into(),
            UnitKind::School,
        ),
    ];
    for n in 1..=groups {
        out.push((
            format!("TDP{n:02}"),
            format!("Tổ dân phố số {n}"),
            UnitKind::ResidentialGroup,
        ));
    }
    out
}

/// Generates every unit's year for the annual period (window 15/12/2025 to
/// 14/12/2026), with activities dated up to `last_day`.
pub fn generate(seed: u64, groups: usize, last_day: NaiveDate) -> Vec<UnitPlan> {
    let catalog = Catalog::builtin();
    let mut rng = Rng::new(seed);
    let first = NaiveDate::from_ymd_opt(2025, 12, 15).expect("valid date");
    let span = (last_day - first).num_days().max(1) as u64;
    let all = units(groups);
    let n = all.len();
    all.into_iter()
        .enumerate()
        .map(|(i, (code, name, kind))| {
            // The last two groups never send anything, two submit late, two
            // stay drafts and one is returned once: a realistic mix.
            let fate = match n - i {
                1 | 2 => Fate::Missing,
                3 | 4 => Fate::Late,
                5 | 6 => Fate::Draft,
                _ if code == "TDP03" => Fate::Returned,
                _ => Fate::OnTime,
            };
            let count = match kind {
                UnitKind::ResidentialGroup => rng.range(4, 12),
                _ => rng.range(8, 20),
            };
            let activities = (0..count)
                .map(|_| {
                    let (form, titles) = rng.pick(TITLES);
                    PlannedActivity {
                        date: first + Duration::days(rng.range(0, span) as i64),
                        form: *form,
                        title: rng.pick(titles).to_string(),
                        participants: match form {
                            Form::Document | Form::WebPortal => rng.range(0, 5) as u32,
                            Form::SocialNetwork => rng.range(20, 300) as u32,
                            _ => rng.range(15, 120) as u32,
                        },
                    }
                })
                .collect();
            let values = values_for(&catalog, kind, &mut rng);
            let mut notes = vec![
                (Section::Results, rng.pick(RESULTS).to_string()),
                (Section::Difficulties, rng.pick(DIFFICULTIES).to_string()),
            ];
            if rng.chance(70) {
                notes.push((Section::Proposals, rng.pick(PROPOSALS).to_string()));
            }
            notes.push((Section::NextTasks, rng.pick(NEXT).to_string()));
            UnitPlan {
                code,
                name,
                kind,
                fate,
                activities,
                values,
                notes,
            }
        })
        .collect()
}

/// Values for every entered indicator that applies to `kind`, respecting the
/// catalog's ranges and cross-indicator rules.
fn values_for(catalog: &Catalog, kind: UnitKind, rng: &mut Rng) -> BTreeMap<String, String> {
    let mut nums: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for ind in catalog
        .indicators
        .iter()
        .filter(|i| i.is_entered() && i.applies_to(kind))
    {
        match ind.value_type {
            ValueType::Count => {
                nums.insert(ind.code.clone(), rng.range(0, 40));
            }
            ValueType::Number | ValueType::Percent => {
                out.insert(ind.code.clone(), rng.range(70, 98).to_string());
            }
            ValueType::YesNo => {
                out.insert(
                    ind.code.clone(),
                    if rng.chance(85) { "có" } else { "không" }.to_string(),
                );
            }
            ValueType::Text => {
                out.insert(
                    ind.code.clone(),
                    "Hoàn thành tốt các nhiệm vụ thực hiện dân chủ ở cơ sở".to_string(),
                );
            }
        }
    }
    // "Of which" counts never exceed their whole.
    for rule in &catalog.rules {
        if let (Some(&l), Some(&r)) = (nums.get(&rule.left), nums.get(&rule.right))
            && rule.op == CmpOp::Le
            && l > r
        {
            nums.insert(rule.left.clone(), rng.range(0, r));
        }
    }
    for (code, n) in nums {
        out.insert(code, n.to_string());
    }
    out
}

/// The activities as the CSV `coso-agent activity import` reads, with a
/// header row.
pub fn activities_csv(activities: &[PlannedActivity]) -> String {
    let mut csv = String::from("date,form,title,participants\n");
    for a in activities {
        csv.push_str(&format!(
            "{},{},\"{}\",{}\n",
            a.date,
            a.form.as_str(),
            a.title.replace('"', "\"\""),
            a.participants
        ));
    }
    csv
}

/// Records a unit's planned year through the real agent CLI: the activities
/// in one `activity import` (ids HD-1.. in the plan's order, as one
/// `activity add` each would give), then all values in one `value set`, then
/// the narratives. Returns the first failed command, if any.
pub fn record(agent: &crate::Agent, plan: &UnitPlan, period: &str) -> Result<(), Box<crate::Run>> {
    if !plan.activities.is_empty() {
        let file = agent
            .dir
            .parent()
            .unwrap_or(&agent.dir)
            .join(format!("{}-hoat-dong.csv", plan.code));
        std::fs::write(&file, activities_csv(&plan.activities))
            .unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        let path = file.display().to_string();
        check(agent.cmd(&["activity", "import", &path]))?;
    }
    if !plan.values.is_empty() {
        let pairs: Vec<String> = plan
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut args = vec!["value", "set", "--period", period];
        args.extend(pairs.iter().map(String::as_str));
        check(agent.cmd(&args))?;
    }
    for (section, text) in &plan.notes {
        check(agent.cmd(&[
            "note",
            "set",
            "--period",
            period,
            "--section",
            section.as_str(),
            "--text",
            text,
        ]))?;
    }
    Ok(())
}

fn check(run: crate::Run) -> Result<crate::Run, Box<crate::Run>> {
    if run.output.status.success() {
        Ok(run)
    } else {
        Err(Box::new(run))
    }
}
