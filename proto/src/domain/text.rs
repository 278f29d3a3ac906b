//! Text rules shared by every field people type: NFC normalisation and limits.

use unicode_normalization::UnicodeNormalization;

/// Vietnamese text can arrive decomposed (macOS, some IMEs); everything is
/// stored in NFC so equal text compares equal and hashes the same.
pub fn normalize(s: &str) -> String {
    s.nfc().collect()
}

/// The largest narrative section we accept, in bytes. Bounded so a single
/// change always fits in a sync batch.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The largest title or note of an activity, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 500;
