//! The dashboard's people: user accounts (name, role, Argon2id password hash,
//! whether the password must be changed) and their login sessions, in their
//! own sled tree. A session is stored only as the SHA-256 of its token, and
//! every session of a user ends when the user logs out everywhere, changes
//! password, changes role or is removed.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Hash32, Store, StoreError, dec, enc};

const TREE: &str = "users";
const USER: u8 = b'u';
const SESSION: u8 = b's';

/// The most characters in a user name.
pub const MAX_NAME_CHARS: usize = 64;
/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer passwords are refused (Argon2 would take them, but nobody types them).
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn key(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(tag);
    k.extend_from_slice(rest);
    k
}

/// What a user may do on the dashboard. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and downloads.
    Viewer,
    /// Also accepts, returns and reopens reports and writes the ward's narrative.
    Reviewer,
    /// Also manages units, periods, users and upstream delivery.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown role {0:?}: use viewer, reviewer or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

/// A dashboard account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The Argon2id hash in PHC string form (algorithm, parameters, salt, hash).
    pub password_hash: String,
    /// Set for a one-time password: the user must choose a new one first.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

/// A login session. The token itself is only ever in the browser's cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why a user could not be created or changed. Nothing was written.
#[derive(Debug, Error)]
pub enum UserError {
    #[error("user {0} already exists")]
    Exists(String),
    #[error("no user {0}")]
    Unknown(String),
    #[error("the user name {0:?} is not valid: 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password is too long: at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    #[error(transparent)]
    Role(#[from] UnknownRole),
    #[error("the last admin cannot be removed or demoted")]
    LastAdmin,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a user name: what `user add` and the login form accept.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(UserError::BadName(name.to_string()))
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), UserError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::PasswordTooShort);
    }
    Ok(())
}

/// Argon2id with the parameters OWASP recommends as the memory-lean choice
/// (19 MiB, 2 passes, 1 lane): the hub runs on an office PC, and its idle
/// footprint is a budget (BENCHMARKS.md).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a fresh salt. CPU- and memory-heavy: call it on a
/// blocking thread.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let salt = SaltString::encode_b64(&raw).map_err(|e| UserError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC hash. A malformed hash never
/// matches. CPU- and memory-heavy: call it on a blocking thread.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => argon2().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A PHC hash of a password nobody knows, so a login for an unknown user
/// costs as much as one for a known user (no user enumeration by timing).
pub fn decoy_hash() -> &'static str {
    use std::sync::OnceLock;
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("coso decoy password, never valid").unwrap_or_default())
}

impl Store {
    fn users_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.alive()?;
        let k = key(USER, name.as_bytes());
        match self.users_tree()?.get(&k)? {
            Some(v) => dec(&k, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.alive()?;
        self.users_tree()?
            .scan_prefix([USER])
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    /// Adds a user. Refuses an existing name.
    pub async fn add_user(&self, user: &User) -> Result<(), UserError> {
        let _registry = self.lock_registry().await;
        let t = self.users_tree()?;
        let k = key(USER, user.name.as_bytes());
        if t.contains_key(&k).map_err(StoreError::from)? {
            return Err(UserError::Exists(user.name.clone()));
        }
        self.written(t.insert(k, enc(user)))?;
        self.flush().await?;
        Ok(())
    }

    /// Replaces a user (new password or role) and, when `end_sessions`,
    /// ends every session of that user in the same batch. Refuses to demote
    /// the last admin.
    pub async fn update_user(&self, user: &User, end_sessions: bool) -> Result<(), UserError> {
        let _registry = self.lock_registry().await;
        let t = self.users_tree()?;
        let Some(old) = self.user(&user.name)? else {
            return Err(UserError::Unknown(user.name.clone()));
        };
        if old.role == Role::Admin && user.role != Role::Admin && self.admin_count()? <= 1 {
            return Err(UserError::LastAdmin);
        }
        let mut b = sled::Batch::default();
        b.insert(key(USER, user.name.as_bytes()), enc(user));
        if end_sessions {
            for k in self.session_keys_of(&t, &user.name)? {
                b.remove(k);
            }
        }
        self.written(t.apply_batch(b))?;
        self.flush().await?;
        Ok(())
    }

    /// Removes a user and every session of theirs. Refuses the last admin.
    pub async fn remove_user(&self, name: &str) -> Result<User, UserError> {
        let _registry = self.lock_registry().await;
        let t = self.users_tree()?;
        let Some(old) = self.user(name)? else {
            return Err(UserError::Unknown(name.to_string()));
        };
        if old.role == Role::Admin && self.admin_count()? <= 1 {
            return Err(UserError::LastAdmin);
        }
        let mut b = sled::Batch::default();
        b.remove(key(USER, name.as_bytes()));
        for k in self.session_keys_of(&t, name)? {
            b.remove(k);
        }
        self.written(t.apply_batch(b))?;
        self.flush().await?;
        Ok(old)
    }

    fn admin_count(&self) -> Result<usize, StoreError> {
        Ok(self
            .users()?
            .iter()
            .filter(|u| u.role == Role::Admin)
            .count())
    }

    fn session_keys_of(&self, t: &sled::Tree, name: &str) -> Result<Vec<sled::IVec>, StoreError> {
        let mut out = Vec::new();
        for kv in t.scan_prefix([SESSION]) {
            let (k, v) = kv?;
            let s: Session = dec(&k, &v)?;
            if s.user == name {
                out.push(k);
            }
        }
        Ok(out)
    }

    // --- sessions ---------------------------------------------------------

    /// Stores a new session under the hash of its token, then flushes.
    pub async fn add_session(&self, token_hash: &Hash32, s: &Session) -> Result<(), StoreError> {
        let t = self.users_tree()?;
        self.written(t.insert(key(SESSION, &token_hash.0), enc(s)))?;
        self.flush().await
    }

    /// The session stored under `token_hash`, if it exists and has not expired.
    pub fn session(
        &self,
        token_hash: &Hash32,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        self.alive()?;
        let k = key(SESSION, &token_hash.0);
        match self.users_tree()?.get(&k)? {
            Some(v) => {
                let s: Session = dec(&k, &v)?;
                Ok((s.expires_at > now).then_some(s))
            }
            None => Ok(None),
        }
    }

    /// Ends one session (logout), and drops every expired one on the way.
    pub async fn end_session(
        &self,
        token_hash: &Hash32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let t = self.users_tree()?;
        let mut b = sled::Batch::default();
        b.remove(key(SESSION, &token_hash.0));
        for kv in t.scan_prefix([SESSION]) {
            let (k, v) = kv?;
            let s: Session = dec(&k, &v)?;
            if s.expires_at <= now {
                b.remove(k);
            }
        }
        self.written(t.apply_batch(b))?;
        self.flush().await
    }

    /// How many live sessions a user has (for the users page).
    pub fn session_count(&self, name: &str, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.alive()?;
        let mut n = 0;
        for kv in self.users_tree()?.scan_prefix([SESSION]) {
            let (k, v) = kv?;
            let s: Session = dec(&k, &v)?;
            if s.user == name && s.expires_at > now {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> User {
        let now = Utc::now();
        User {
            name: name.into(),
            role,
            password_hash: String::new(),
            must_change_password: false,
            created_at: now,
            password_changed_at: now,
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("một mật khẩu dài").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("một mật khẩu dài", &h));
        assert!(!verify_password("một mật khẩu dàI", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("lan.nguyen").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("<script>").is_err());
        assert!(matches!(
            check_password("short"),
            Err(UserError::PasswordTooShort)
        ));
        assert!(matches!(
            check_password(&"x".repeat(2000)),
            Err(UserError::PasswordTooLong)
        ));
        assert!("reviewer".parse::<Role>().is_ok());
        assert!("root".parse::<Role>().is_err());
    }

    #[tokio::test]
    async fn role_and_password_changes_end_sessions_and_the_last_admin_stays() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        s.add_user(&user("an", Role::Admin)).await.unwrap();
        s.add_user(&user("binh", Role::Viewer)).await.unwrap();
        assert!(matches!(
            s.add_user(&user("binh", Role::Admin)).await,
            Err(UserError::Exists(_))
        ));
        let sess = Session {
            user: "binh".into(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
        };
        let h1 = Hash32([1; 32]);
        let h2 = Hash32([2; 32]);
        s.add_session(&h1, &sess).await.unwrap();
        s.add_session(&h2, &sess).await.unwrap();
        assert_eq!(s.session_count("binh", now).unwrap(), 2);
        s.end_session(&h1, now).await.unwrap();
        assert!(s.session(&h1, now).unwrap().is_none());
        assert!(s.session(&h2, now).unwrap().is_some());
        // Expired sessions do not count.
        assert!(
            s.session(&h2, now + chrono::Duration::hours(2))
                .unwrap()
                .is_none()
        );

        let mut b = s.user("binh").unwrap().unwrap();
        b.role = Role::Reviewer;
        s.update_user(&b, true).await.unwrap();
        assert!(s.session(&h2, now).unwrap().is_none());
        assert_eq!(s.user("binh").unwrap().unwrap().role, Role::Reviewer);

        let mut a = s.user("an").unwrap().unwrap();
        a.role = Role::Viewer;
        assert!(matches!(
            s.update_user(&a, true).await,
            Err(UserError::LastAdmin)
        ));
        assert!(matches!(
            s.remove_user("an").await,
            Err(UserError::LastAdmin)
        ));
        s.remove_user("binh").await.unwrap();
        assert!(s.user("binh").unwrap().is_none());
        assert_eq!(s.users().unwrap().len(), 1);
    }
}
