//! The dashboard's user accounts as ward use cases: adding one (with a
//! password read from the caller or a printed one-time password that must
//! be changed at first login), listing, removing, resetting a password and
//! changing a role. Password and role changes end the user's sessions.

use chrono::Duration;
use rand::{Rng, RngCore};

use super::{Actor, Ward, WardError};
use crate::store::Hash32;
use crate::store::users::{self, Role, Session, User, UserError};

// The password policy and its hashing, for the faces that check a password
// before they ask for a change (the sign-in and password pages).
pub use crate::store::users::{
    MAX_NAME_CHARS, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, check_name, check_password, decoy_hash,
    hash_password, verify_password,
};

/// Letters and digits people read aloud without confusion (no 0/o, 1/l/i).
const OTP_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A one-time password: four groups of four, about 79 bits.
fn one_time_password() -> String {
    let mut rng = rand::rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| OTP_ALPHABET[rng.random_range(0..OTP_ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A refused user change, in Vietnamese.
pub fn message_vi(e: &UserError) -> String {
    match e {
        UserError::Exists(n) => format!("người dùng {n} đã tồn tại"),
        UserError::Unknown(n) => format!("không có người dùng {n}"),
        UserError::BadName(n) => format!(
            "tên đăng nhập {n:?} không hợp lệ: 1-{} chữ cái, chữ số, '.', '_' hoặc '-'",
            users::MAX_NAME_CHARS
        ),
        UserError::PasswordTooShort => format!(
            "mật khẩu quá ngắn: cần ít nhất {} ký tự",
            users::MIN_PASSWORD_CHARS
        ),
        UserError::PasswordTooLong => format!(
            "mật khẩu quá dài: tối đa {} byte",
            users::MAX_PASSWORD_BYTES
        ),
        UserError::Role(r) => format!(
            "vai trò (role) {:?} không hợp lệ: dùng viewer, reviewer hoặc admin",
            r.0
        ),
        UserError::LastAdmin => {
            "không thể xóa hoặc hạ quyền quản trị viên (admin) cuối cùng".into()
        }
        UserError::Hash(e) => format!("không băm được mật khẩu: {e}"),
        UserError::Store(e) => format!("lỗi cơ sở dữ liệu: {e}"),
    }
}

/// A role as typed (`viewer`, `reviewer`, `admin`).
pub fn role(s: &str) -> Result<Role, WardError> {
    s.trim()
        .parse::<Role>()
        .map_err(|e| UserError::from(e).into())
}

/// A user as the registry lists it (never the hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Live sessions.
    pub sessions: usize,
}

/// The password a change ended with: the caller's, or a one-time password
/// to hand to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordSet {
    pub user: UserSummary,
    pub one_time_password: Option<String>,
}

async fn hash(password: String) -> Result<String, WardError> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|e| UserError::Hash(e.to_string()))?
        .map_err(WardError::from)
}

impl Ward {
    fn summary(&self, u: &User) -> Result<UserSummary, WardError> {
        Ok(UserSummary {
            name: u.name.clone(),
            role: u.role,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            sessions: self
                .hub
                .store
                .session_count(&u.name, coso_domain::clock::now())?,
        })
    }

    fn existing_user(&self, name: &str) -> Result<User, WardError> {
        self.hub
            .store
            .user(name)?
            .ok_or_else(|| UserError::Unknown(name.to_string()).into())
    }

    /// The user named `name`, if there is one.
    pub fn user(&self, name: &str) -> Result<Option<User>, WardError> {
        Ok(self.hub.store.user(name)?)
    }

    /// Starts a dashboard session for `user` lasting `hours`; returns the
    /// session token for the browser. Only its hash is kept.
    pub async fn start_session(&self, user: &User, hours: i64) -> Result<String, WardError> {
        let now = coso_domain::clock::now();
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        let token = hex::encode(b);
        let session = Session {
            user: user.name.clone(),
            created_at: now,
            expires_at: now + Duration::hours(hours),
        };
        self.hub
            .store
            .add_session(&crate::auth::hash(&token), &session)
            .await?;
        Ok(token)
    }

    /// The user of a live session, and the session's hash (to end it).
    pub fn session_user(&self, token: &str) -> Result<Option<(User, Hash32)>, WardError> {
        let token_hash = crate::auth::hash(token);
        let now = coso_domain::clock::now();
        let Some(session) = self.hub.store.session(&token_hash, now)? else {
            return Ok(None);
        };
        Ok(self
            .hub
            .store
            .user(&session.user)?
            .map(|user| (user, token_hash)))
    }

    /// Ends a session.
    pub async fn end_session(&self, token_hash: &Hash32) -> Result<(), WardError> {
        self.hub
            .store
            .end_session(token_hash, coso_domain::clock::now())
            .await?;
        Ok(())
    }

    /// A user's own password change (already checked and hashed): every
    /// session of theirs ends.
    pub async fn change_own_password(
        &self,
        user: &User,
        password_hash: String,
    ) -> Result<User, WardError> {
        let mut user = user.clone();
        user.password_hash = password_hash;
        user.must_change_password = false;
        user.password_changed_at = coso_domain::clock::now();
        self.hub.store.update_user(&user, true).await?;
        self.audit(
            &Actor::user(&user.name),
            "user-password",
            None,
            format!("{} own", user.name),
        )
        .await?;
        Ok(user)
    }

    /// How long `name` must wait before its password is tried again from
    /// `address` (a sign-in or the current password on a password change).
    pub fn password_wait(&self, name: &str, address: &str) -> Option<std::time::Duration> {
        self.hub
            .throttle
            .wait(name, address, std::time::Instant::now())
    }

    /// Counts a wrong password for `name` from `address`.
    pub fn password_failed(&self, name: &str, address: &str) {
        self.hub
            .throttle
            .failed(name, address, std::time::Instant::now());
    }

    /// The right password for `name` from `address`: its counts start afresh.
    pub fn password_succeeded(&self, name: &str, address: &str) {
        self.hub.throttle.succeeded(name, address);
    }

    /// Forgets every failed guess of `name`'s password, from any address
    /// (`coso-hub user unlock`); answers how many addresses had some.
    pub async fn unlock_user(&self, actor: &Actor, name: &str) -> Result<usize, WardError> {
        let user = self.existing_user(name)?;
        let cleared = self.hub.throttle.unlock(&user.name);
        self.audit(actor, "user-unlock", None, user.name.clone())
            .await?;
        tracing::info!(user = name, by = actor.name(), cleared, "user unlocked");
        Ok(cleared)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<UserSummary>, WardError> {
        self.hub
            .store
            .users()?
            .iter()
            .map(|u| self.summary(u))
            .collect()
    }

    /// Adds a user. Without `password`, makes a one-time password that the
    /// user must change at the first login.
    pub async fn add_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: Option<String>,
    ) -> Result<PasswordSet, WardError> {
        users::check_name(name)?;
        if let Some(p) = &password {
            users::check_password(p)?;
        }
        if self.hub.store.user(name)?.is_some() {
            return Err(UserError::Exists(name.to_string()).into());
        }
        let one_time = password.is_none().then(one_time_password);
        let clear = password.or_else(|| one_time.clone()).unwrap_or_default();
        let now = coso_domain::clock::now();
        let user = User {
            name: name.to_string(),
            role,
            password_hash: hash(clear).await?,
            must_change_password: one_time.is_some(),
            created_at: now,
            password_changed_at: now,
        };
        self.hub.store.add_user(&user).await?;
        self.audit(actor, "user-add", None, format!("{name} {}", role.as_str()))
            .await?;
        tracing::info!(
            user = name,
            role = role.as_str(),
            by = actor.name(),
            "user added"
        );
        Ok(PasswordSet {
            user: self.summary(&user)?,
            one_time_password: one_time,
        })
    }

    /// Sets a user's password (or a one-time one when `password` is None)
    /// and ends every session of theirs.
    pub async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password: Option<String>,
    ) -> Result<PasswordSet, WardError> {
        if let Some(p) = &password {
            users::check_password(p)?;
        }
        let mut user = self.existing_user(name)?;
        let one_time = password.is_none().then(one_time_password);
        let clear = password.or_else(|| one_time.clone()).unwrap_or_default();
        user.password_hash = hash(clear).await?;
        user.must_change_password = one_time.is_some();
        user.password_changed_at = coso_domain::clock::now();
        self.hub.store.update_user(&user, true).await?;
        // A new password answers for the old one's guesses.
        self.hub.throttle.unlock(name);
        let how = if one_time.is_some() {
            "one-time"
        } else {
            "set"
        };
        self.audit(actor, "user-password", None, format!("{name} {how}"))
            .await?;
        tracing::info!(user = name, by = actor.name(), "user password set");
        Ok(PasswordSet {
            user: self.summary(&user)?,
            one_time_password: one_time,
        })
    }

    /// Changes a user's role and ends every session of theirs. The last
    /// admin keeps the role.
    pub async fn set_role(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<UserSummary, WardError> {
        let mut user = self.existing_user(name)?;
        if user.role == role {
            return self.summary(&user);
        }
        user.role = role;
        self.hub.store.update_user(&user, true).await?;
        self.audit(
            actor,
            "user-role",
            None,
            format!("{name} {}", role.as_str()),
        )
        .await?;
        tracing::info!(
            user = name,
            role = role.as_str(),
            by = actor.name(),
            "user role changed"
        );
        self.summary(&user)
    }

    /// Removes a user and ends their sessions. The last admin stays.
    pub async fn remove_user(&self, actor: &Actor, name: &str) -> Result<UserSummary, WardError> {
        let user = self.hub.store.remove_user(name).await?;
        self.audit(actor, "user-remove", None, name.to_string())
            .await?;
        tracing::info!(user = name, by = actor.name(), "user removed");
        Ok(UserSummary {
            name: user.name,
            role: user.role,
            must_change_password: user.must_change_password,
            created_at: user.created_at,
            sessions: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_enough_and_differ() {
        let a = one_time_password();
        assert_eq!(a.len(), 19);
        assert!(users::check_password(&a).is_ok());
        assert_ne!(a, one_time_password());
    }

    #[tokio::test]
    async fn users_are_added_with_a_one_time_password_and_role_changes_end_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::testing::hub(dir.path(), |_| {}).await;
        let ward = Ward::new(hub.clone());
        let actor = Actor::admin_token();
        let set = ward
            .add_user(&actor, "lan", Role::Admin, None)
            .await
            .unwrap();
        let otp = set.one_time_password.unwrap();
        let u = hub.store.user("lan").unwrap().unwrap();
        assert!(u.must_change_password);
        assert!(users::verify_password(&otp, &u.password_hash));
        assert!(matches!(
            ward.add_user(&actor, "lan", Role::Viewer, None).await,
            Err(WardError::User(UserError::Exists(_)))
        ));
        assert!(matches!(
            ward.add_user(&actor, "binh", Role::Viewer, Some("ngắn".into()))
                .await,
            Err(WardError::User(UserError::PasswordTooShort))
        ));
        assert!(hub.store.user("binh").unwrap().is_none());
        let set = ward
            .add_user(&actor, "binh", Role::Viewer, Some("mật khẩu đủ dài".into()))
            .await
            .unwrap();
        assert!(set.one_time_password.is_none());
        assert!(
            !hub.store
                .user("binh")
                .unwrap()
                .unwrap()
                .must_change_password
        );
        ward.set_role(&actor, "binh", Role::Reviewer).await.unwrap();
        assert!(matches!(
            ward.remove_user(&actor, "lan").await,
            Err(WardError::User(UserError::LastAdmin))
        ));
        ward.remove_user(&actor, "binh").await.unwrap();
        assert_eq!(ward.users().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn unlock_and_a_new_password_forget_the_wrong_guesses() {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::testing::hub(dir.path(), |_| {}).await;
        let ward = Ward::new(hub.clone());
        let actor = Actor::admin_token();
        ward.add_user(&actor, "lan", Role::Admin, None)
            .await
            .unwrap();
        let guess = |ward: &Ward| {
            for _ in 0..crate::throttle::MAX_FAILURES {
                ward.password_failed("lan", "10.0.0.9");
            }
        };
        guess(&ward);
        assert!(ward.password_wait("lan", "10.0.0.9").is_some());
        assert!(ward.password_wait("lan", "10.0.0.1").is_none());
        assert_eq!(ward.unlock_user(&actor, "lan").await.unwrap(), 1);
        assert!(ward.password_wait("lan", "10.0.0.9").is_none());
        guess(&ward);
        ward.set_password(&actor, "lan", None).await.unwrap();
        assert!(ward.password_wait("lan", "10.0.0.9").is_none());
        assert!(matches!(
            ward.unlock_user(&actor, "khong-co").await,
            Err(WardError::User(UserError::Unknown(_)))
        ));
    }
}
