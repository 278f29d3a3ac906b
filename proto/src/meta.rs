//! The gRPC metadata keys and values that carry the sync protocol's meaning
//! beside a status code. People read a status's message; programs read these
//! (the message is worded for the officer and may change at any time).

/// The caller's language for messages: `vi` (default) or `en`.
pub const LANG: &str = "coso-lang";

/// On a refused push (FAILED_PRECONDITION): the seq the hub expects next,
/// as ASCII decimal.
pub const EXPECTED_SEQ: &str = "coso-expected-seq";

/// On a refused push (DATA_LOSS): the seq whose content differs from what
/// the hub holds, as ASCII decimal.
pub const CORRUPT_SEQ: &str = "coso-corrupt-seq";

/// On a refusal (FAILED_PRECONDITION) because the unit's log and the hub's
/// have diverged: one of the [`Diverged`] values, as ASCII.
pub const DIVERGED: &str = "coso-diverged";

/// On a refusal (UNAVAILABLE) because the hub's storage failed (a flush did
/// not reach the disk): `disk_full` or `storage_failed`. The hub takes and
/// shows nothing until it restarts; retry later.
pub const STORAGE_FAILED: &str = "coso-storage-failed";

/// On a refused push (INVALID_ARGUMENT) because an entry is not a valid
/// record: its seq, as ASCII decimal. The entries after it wait behind it.
pub const REFUSED_SEQ: &str = "coso-refused-seq";

/// On a refused Hello (FAILED_PRECONDITION) because the agent's release is
/// below the hub's minimum (or too old to name itself): the lowest release the
/// hub syncs with, e.g. `0.3.0`. Nothing changed on either side; the officer
/// installs that release and syncs again.
pub const UPGRADE_REQUIRED: &str = "coso-upgrade-required";

/// Why the hub considers a unit's log diverged from its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diverged {
    /// Two copies of the agent (the same credential) recorded different
    /// changes under the same seq.
    Forked,
    /// The agent's log ends below what the hub already holds: this copy is
    /// older than what the ward received (restored from an old backup, or a
    /// copy of the data dir).
    Behind,
}

impl Diverged {
    pub fn as_str(self) -> &'static str {
        match self {
            Diverged::Forked => "forked",
            Diverged::Behind => "behind",
        }
    }
}

impl std::str::FromStr for Diverged {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "forked" => Ok(Diverged::Forked),
            "behind" => Ok(Diverged::Behind),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverged_round_trips() {
        for d in [Diverged::Forked, Diverged::Behind] {
            assert_eq!(d.as_str().parse::<Diverged>(), Ok(d));
        }
        assert!("other".parse::<Diverged>().is_err());
    }
}
