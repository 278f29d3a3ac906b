//! The `[upstream]` and `[receive]` sections of hub.toml: when reports are
//! delivered on their own and how deliveries are retried, and which senders a
//! city-level hub accepts. Where to deliver (URL, CA) is not here: it is set
//! with `coso-hub upstream set` and kept in the store; the token goes to a
//! file of its own ([`TOKEN_FILE`], 0600), never into the database.

use std::path::Path;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The upstream bearer token's file, in the hub's database directory.
pub const TOKEN_FILE: &str = "upstream.token";

/// Keeps the upstream token (or its absence) in [`TOKEN_FILE`] under `dir`.
pub fn save_token(dir: &Path, token: Option<&str>) -> std::io::Result<()> {
    let path = dir.join(TOKEN_FILE);
    match token {
        Some(t) => coso_proto::private::write_secret(&path, t),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

/// The upstream token saved by [`save_token`], if any.
pub fn load_token(dir: &Path) -> std::io::Result<Option<String>> {
    coso_proto::private::read_secret(&dir.join(TOKEN_FILE))
}

/// `[upstream]`: the delivery schedule and retry policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Upstream {
    /// Deliver this many days before each deadline (from 00:00 Vietnam time
    /// of that day); 0 turns the deadline trigger off.
    pub days_before_due: u32,
    /// Deliver as soon as every expected unit's report is accepted.
    pub when_all_accepted: bool,
    /// A period's deadline more than this many days ago no longer triggers an
    /// automatic delivery (`upstream push` still works).
    pub catch_up_days: u32,
    /// How often the schedule is checked, in seconds.
    pub check_every_secs: u64,
    /// The first retry waits about this long; each further retry doubles it.
    pub retry_base_ms: u64,
    /// No retry waits longer than this (unless the upstream's Retry-After
    /// asks for longer).
    pub retry_max_ms: u64,
    /// After this many attempts a delivery is marked failed; 0: never.
    pub max_attempts: u32,
    /// How long one delivery request may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            days_before_due: 2,
            when_all_accepted: true,
            catch_up_days: 7,
            check_every_secs: 60,
            retry_base_ms: 2_000,
            retry_max_ms: 3_600_000,
            max_attempts: 200,
            timeout_secs: 60,
        }
    }
}

/// `[receive]`: reports delivered to this hub by ward hubs (a city-level hub).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Receive {
    /// `[receive.wards]`: each ward's name and the SHA-256 (hex) of the one
    /// bearer token it delivers with (`printf %s "$TOKEN" | sha256sum`). A
    /// token delivers only as its own ward; empty: receiving is off.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub wards: BTreeMap<String, String>,
    /// The old list of tokens not bound to a ward. Kept so an old hub.toml
    /// gets a message saying what to write instead; it must be empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens_sha256: Vec<String>,
    /// The largest delivery accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Receive {
    fn default() -> Self {
        Receive {
            wards: BTreeMap::new(),
            tokens_sha256: Vec::new(),
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Checks both sections; the error names the field and says why.
pub fn check(u: &Upstream, r: &Receive) -> Result<(), (&'static str, String)> {
    if u.check_every_secs == 0 {
        return Err(("upstream.check_every_secs", "must be at least 1".into()));
    }
    if u.retry_base_ms == 0 || u.retry_base_ms > u.retry_max_ms {
        return Err((
            "upstream.retry_base_ms",
            "must be at least 1 and at most upstream.retry_max_ms".into(),
        ));
    }
    if u.timeout_secs == 0 {
        return Err(("upstream.timeout_secs", "must be at least 1".into()));
    }
    if !r.tokens_sha256.is_empty() {
        return Err((
            "receive.tokens_sha256",
            "tokens are now bound to one ward each: list them under [receive.wards] as \"Phường …\" = \"<sha256>\"".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (ward, t) in &r.wards {
        if ward.trim().is_empty() {
            return Err(("receive.wards", "a ward's name must not be empty".into()));
        }
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((
                "receive.wards",
                format!("{ward:?}: {t:?} is not the 64 hex digits of a SHA-256"),
            ));
        }
        if !seen.insert(t.to_ascii_lowercase()) {
            return Err((
                "receive.wards",
                format!(
                    "{ward:?}: the same token is given to another ward; each ward needs its own"
                ),
            ));
        }
    }
    if r.max_body_bytes < 64 * 1024 {
        return Err(("receive.max_body_bytes", "must be at least 65536".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    /// Defect 6 of issue 13: the hub's database dir is owner-only, and the
    /// upstream token is kept in its own 0600 file, not in the database.
    #[cfg(unix)]
    #[test]
    fn the_upstream_token_has_its_own_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("hub");
        let db = data.join("db");
        let secret = "upstream-token-that-must-stay-private";
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        {
            let store = crate::store::Store::open(&db).unwrap();
            let t = crate::store::outbox::UpstreamTarget {
                url: "https://so-noi-vu.example/api".into(),
                token: Some(secret.into()),
                ca_pem: None,
                set_at: chrono::Utc::now(),
            };
            rt.block_on(store.set_upstream_target(&t)).unwrap();
            assert_eq!(
                store.upstream_target().unwrap().unwrap().token.as_deref(),
                Some(secret)
            );
        }
        let store = crate::store::Store::reopen(&db);
        assert_eq!(
            store.upstream_target().unwrap().unwrap().token.as_deref(),
            Some(secret)
        );
        drop(store);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&db), 0o700);
        let token = db.join(TOKEN_FILE);
        assert_eq!(mode(&token), 0o600);
        let mut stack = vec![db.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                assert_eq!(mode(&p) & 0o077, 0, "{} is readable by others", p.display());
                if p != token {
                    let bytes = std::fs::read(&p).unwrap();
                    assert!(
                        !String::from_utf8_lossy(&bytes).contains(secret),
                        "the token is in {}",
                        p.display()
                    );
                }
            }
        }
    }
    use super::*;

    #[test]
    fn defaults_are_valid_and_sections_parse() {
        assert!(check(&Upstream::default(), &Receive::default()).is_ok());
        let u: Upstream =
            toml::from_str("days_before_due = 3\nwhen_all_accepted = false\nretry_base_ms = 10")
                .unwrap();
        assert_eq!(u.days_before_due, 3);
        assert!(!u.when_all_accepted);
        assert_eq!(u.retry_base_ms, 10);
        assert_eq!(u.timeout_secs, 60);
        assert!(toml::from_str::<Upstream>("url = \"x\"").is_err());
        let bad = Receive {
            wards: [("Phường A".to_string(), "abc".to_string())].into(),
            ..Receive::default()
        };
        assert_eq!(check(&u, &bad).unwrap_err().0, "receive.wards");
        let h = "a".repeat(64);
        let shared = Receive {
            wards: [
                ("Phường A".to_string(), h.clone()),
                ("Phường B".to_string(), h.clone()),
            ]
            .into(),
            ..Receive::default()
        };
        assert!(check(&u, &shared).unwrap_err().1.contains("its own"));
        // The old unbound list says what to write instead.
        let r: Receive = toml::from_str(&format!("tokens_sha256 = [\"{h}\"]")).unwrap();
        let e = check(&u, &r).unwrap_err();
        assert_eq!(e.0, "receive.tokens_sha256");
        assert!(e.1.contains("[receive.wards]"));
        let r: Receive = toml::from_str(&format!("[wards]\n\"Phường A\" = \"{h}\"")).unwrap();
        assert!(check(&u, &r).is_ok());
    }
}
