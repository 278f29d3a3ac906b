//! The enrolment link people paste: any text either parses or is refused,
//! and a parsed link prints back to a link that parses to the same value.
#![no_main]

use coso_proto::link::EnrolmentLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(link) = s.parse::<EnrolmentLink>() {
        let again: EnrolmentLink = link.to_string().parse().expect("a printed link parses");
        assert_eq!(again, link);
    }
});
