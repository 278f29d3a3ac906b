//! Wire → domain: a protobuf `ChangeEntry` (and `Period`, `Value`) from
//! arbitrary bytes, converted with the validating `TryFrom`s, then admitted
//! against the built-in catalog and calendar for every kind of unit, as the
//! hub does with a push. Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use coso_domain::admit::admit;
use coso_proto::pb::{self, Message};
use coso_domain::{Calendar, Catalog, Period, UnitKind, Value};
use libfuzzer_sys::fuzz_target;

fn docs() -> &'static (Catalog, Calendar) {
    static D: OnceLock<(Catalog, Calendar)> = OnceLock::new();
    D.get_or_init(|| (Catalog::builtin(), Calendar::builtin()))
}

fuzz_target!(|data: &[u8]| {
    let (catalog, calendar) = docs();
    if let Ok(e) = pb::ChangeEntry::decode(data)
        && let Ok((_, change)) = coso_proto::convert::entry_and_change(e)
    {
        for kind in UnitKind::ALL {
            let _ = admit(&change, catalog, calendar, kind);
        }
    }
    if let Ok(p) = pb::Period::decode(data)
        && let Ok(p) = Period::try_from(p)
    {
        let _ = p.due_day();
        let _ = calendar.periods_for_date(p.window_start);
    }
    if let Ok(v) = pb::Value::decode(data) {
        let _ = Value::try_from(v);
    }
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(d) = coso_domain::calendar::parse_date(s)
    {
        let _ = calendar.periods_for_date(d);
    }
});
