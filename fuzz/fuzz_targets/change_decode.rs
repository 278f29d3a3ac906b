//! Change-entry decoding: the first byte picks the kind, the rest is the
//! payload. A payload that decodes must re-encode canonically: decoding the
//! re-encoded payload gives the same change and the same bytes.
#![no_main]

use coso_domain::{Change, ChangeKind};
use libfuzzer_sys::fuzz_target;

const KINDS: [ChangeKind; 5] = [
    ChangeKind::ActivityUpsert,
    ChangeKind::ActivityRemove,
    ChangeKind::ValuesSet,
    ChangeKind::NoteSet,
    ChangeKind::Submit,
];

fuzz_target!(|data: &[u8]| {
    let Some((first, payload)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(*first) % KINDS.len()];
    if let Ok(change) = Change::decode(kind, payload) {
        let again = change.payload();
        let back = Change::decode(kind, &again).expect("a canonical payload decodes");
        assert_eq!(back.payload(), again, "payload is not canonical");
    }
});
