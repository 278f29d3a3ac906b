//! Text rules shared by every field people type: NFC normalisation, limits,
//! and the characters refused because a terminal or a document would act on
//! them (escape sequences, bells, bidi overrides) rather than show them.

use unicode_normalization::UnicodeNormalization;

use crate::error::DomainError;

/// Vietnamese text can arrive decomposed (macOS, some IMEs); everything is
/// stored in NFC so equal text compares equal and hashes the same.
pub fn normalize(s: &str) -> String {
    s.nfc().collect()
}

/// The largest narrative section we accept, in bytes. Bounded so a single
/// change always fits in a sync batch, and so one unit's four sections
/// (256 KiB) cannot push a ward's compiled report past the gRPC limit.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The largest title or note of an activity, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 500;

/// Whether a field is one line (titles, names) or may hold line breaks and
/// tabs (narratives, activity notes, text values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// The first character of `s` that coso refuses in typed text, if any:
/// C0 controls (except line feed and tab, and a CR that ends a CRLF line, in
/// multi-line fields), DEL, C1 controls, and the bidirectional overrides,
/// embeddings, isolates and marks (U+202E can make "exe.txt" read "txt.exe").
pub fn forbidden_char(s: &str, lines: Lines) -> Option<char> {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed_break = lines == Lines::Many
            && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if allowed_break {
            continue;
        }
        if c.is_control() || bidi(c) {
            return Some(c);
        }
    }
    None
}

/// The bidirectional overrides, embeddings, isolates and marks (LRM, RLM,
/// ALM): invisible, and able to reorder what a reader sees.
fn bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Whitespace that is a control character: what pasted text carries (a
/// manual line break from Word is U+000B) and the release of 2026-11-26 let
/// people type, so units hold it in their logs.
fn control_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\u{85}')
}

/// The first character of `s` refused in text already recorded: a pushed
/// entry, or a record read back from a log. Looser than [`forbidden_char`],
/// the rule for typing, by what an earlier release recorded: whitespace
/// controls in any field, which every writer neutralises where it renders
/// text (`coso_report::formatting`). What acts on a terminal or reorders
/// text (escape, bell, a lone CR, DEL, bidi controls) stays refused.
pub fn forbidden_in_record(s: &str) -> Option<char> {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if control_whitespace(c) || (c == '\r' && chars.peek() == Some(&'\n')) {
            continue;
        }
        if c.is_control() || bidi(c) {
            return Some(c);
        }
    }
    None
}

/// Text an earlier release recorded without character rules, made what the
/// record rules ([`forbidden_in_record`]) accept; run once, when an agent's
/// store or a hub's database is upgraded (ARCHITECTURE.md, "What an earlier
/// release recorded keeps flowing"), never on new input, which is refused.
/// Deterministic, so the agent and the hub clean a seq to the same bytes.
///
/// - Bidi controls and marks are dropped: they carry no letter, Vietnamese
///   reads left to right without them, and they arrive unseen in text
///   pasted from Zalo or Facebook.
/// - A lone CR (an old Mac line end) becomes a line feed: it meant a line
///   break, and on a terminal it would move the cursor back over the line.
/// - Any other control (ESC, BEL, NUL, DEL, C1) becomes U+FFFD: something
///   was there and is shown as such, where dropping it would silently join
///   words; U+FFFD acts on nothing.
/// - Whitespace controls and CRLF, which the record rules accept, stay.
pub fn clean_record(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if bidi(c) {
            continue;
        }
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else if c.is_control() && !control_whitespace(c) && c != '\r' {
            out.push('\u{FFFD}');
        } else {
            out.push(c);
        }
    }
    out
}

/// [`check`] for text already recorded ([`forbidden_in_record`]).
pub fn check_record(field: &'static str, s: &str) -> Result<(), DomainError> {
    match forbidden_in_record(s) {
        Some(c) => Err(DomainError::ControlCharacter {
            field,
            code_point: format!("U+{:04X}", u32::from(c)),
        }),
        None => Ok(()),
    }
}

/// Refuses text with a forbidden character, naming the field and the character.
pub fn check(field: &'static str, s: &str, lines: Lines) -> Result<(), DomainError> {
    match forbidden_char(s, lines) {
        Some(c) => Err(DomainError::ControlCharacter {
            field,
            code_point: format!("U+{:04X}", u32::from(c)),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_refused() {
        for bad in [
            "a\u{1b}[31mb",
            "chuông\u{7}",
            "abc\u{202E}txt.exe",
            "x\u{2066}y",
            "del\u{7f}",
            "c1\u{85}",
            "nul\0",
            "lone\rcr",
        ] {
            assert!(forbidden_char(bad, Lines::Many).is_some(), "{bad:?}");
            assert!(forbidden_char(bad, Lines::One).is_some(), "{bad:?}");
        }
        let note = "Dòng 1\nDòng 2\r\n\tthụt lề";
        assert_eq!(forbidden_char(note, Lines::Many), None);
        assert!(forbidden_char(note, Lines::One).is_some());
        assert_eq!(
            forbidden_char("Hội nghị quán triệt — “Dân biết”", Lines::One),
            None
        );
        // What an earlier release recorded still reads; what acts on a
        // terminal does not.
        for recorded in [
            "Kết quả\u{0B}tốt",
            "trang\u{0C}mới",
            "tab\tin a title",
            "a\r\nb",
        ] {
            assert_eq!(forbidden_in_record(recorded), None, "{recorded:?}");
            assert!(
                forbidden_char(recorded, Lines::One).is_some(),
                "{recorded:?}"
            );
        }
        for bad in [
            "a\u{1b}[31mb",
            "chuông\u{7}",
            "abc\u{202E}txt",
            "lone\rcr",
            "del\u{7f}",
        ] {
            assert!(forbidden_in_record(bad).is_some(), "{bad:?}");
        }
        let e = check("title", "a\u{1b}b", Lines::One).unwrap_err();
        assert!(e.to_string().contains("U+001B") && e.to_string().contains("title"));
    }

    #[test]
    fn what_an_earlier_release_recorded_is_cleaned_to_what_the_record_rules_accept() {
        assert_eq!(
            clean_record("Hội nghị\u{200E} \u{202A}Luật\u{202C}\u{200F} \u{1b}[1mdân"),
            "Hội nghị Luật \u{FFFD}[1mdân"
        );
        assert_eq!(
            clean_record("chuông\u{7}\u{7f}\u{9b}"),
            "chuông\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(clean_record("dòng 1\rdòng 2\r"), "dòng 1\ndòng 2\n");
        // What the record rules accept is kept as it is.
        for kept in [
            "a\r\nb",
            "Kết quả\u{0B}tốt\u{0C}\t\u{85}",
            "Hội nghị “Dân biết”",
        ] {
            assert_eq!(clean_record(kept), kept);
        }
        // Every character, alone and before a line feed: the result passes
        // the record rules, and cleaning it again changes nothing.
        for cp in (0..0x3000u32).chain(0xFEFF..0xFF00) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            for s in [format!("x{c}y"), format!("{c}\n"), format!("{c}")] {
                let clean = clean_record(&s);
                assert_eq!(forbidden_in_record(&clean), None, "U+{cp:04X}");
                assert_eq!(clean_record(&clean), clean, "U+{cp:04X}");
            }
        }
    }
}
