//! Credentials: unit credentials (`UNIT.secret`), the admin token and
//! one-time enrolment codes. Secrets are random, shown once, and stored only
//! as SHA-256 hashes compared in constant time. Also decides who a request's
//! `authorization: Bearer ...` header belongs to.

use chrono::{DateTime, Utc};
use coso_domain::UnitCode;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::store::{Enrolment, Hash32, Store, StoreError, UnitRecord};

/// Random bytes in every secret (credential, admin token).
const SECRET_BYTES: usize = 32;
/// Random bytes in a one-time enrolment code (typed or pasted by people).
const CODE_BYTES: usize = 16;
/// The admin token starts with this, so it never parses as a unit credential.
const ADMIN_PREFIX: &str = "admin-";

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("no credential: send authorization: Bearer <credential>")]
    Missing,
    #[error("the credential is malformed")]
    Malformed,
    #[error("the credential is not valid")]
    Invalid,
    #[error("unit {0} has been revoked")]
    Revoked(UnitCode),
    #[error("a unit credential cannot use the admin service")]
    UnitOnAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// SHA-256 of a secret.
pub fn hash(secret: &str) -> Hash32 {
    Hash32(Sha256::digest(secret.as_bytes()).into())
}

/// Whether `secret` hashes to `stored`, in constant time.
pub fn verify(secret: &str, stored: &Hash32) -> bool {
    hash(secret).0.ct_eq(&stored.0).into()
}

/// A fresh unit credential `UNIT.secret` and the hash the hub keeps.
pub fn new_unit_credential(unit: &UnitCode) -> (String, Hash32) {
    let secret = random_hex(SECRET_BYTES);
    let h = hash(&secret);
    (format!("{unit}.{secret}"), h)
}

/// A fresh admin token and its hash.
pub fn new_admin_token() -> (String, Hash32) {
    let token = format!("{ADMIN_PREFIX}{}", random_hex(SECRET_BYTES));
    let h = hash(&token);
    (token, h)
}

/// A fresh one-time enrolment code and its hash.
pub fn new_enrolment_code() -> (String, Hash32) {
    let code = random_hex(CODE_BYTES);
    let h = hash(&code);
    (code, h)
}

/// The token of an `authorization` header's value (`Bearer <token>`).
pub fn bearer(value: &str) -> Result<&str, AuthError> {
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(AuthError::Malformed)?
        .trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// Splits `UNIT.secret`.
fn split_credential(token: &str) -> Option<(UnitCode, &str)> {
    let (unit, secret) = token.split_once('.')?;
    if secret.is_empty() {
        return None;
    }
    Some((unit.parse().ok()?, secret))
}

/// The unit whose credential this is: registered, active, and the secret
/// matches. A revoked unit is told so.
pub(crate) fn unit_of(store: &Store, token: &str) -> Result<UnitRecord, AuthError> {
    let (code, secret) = split_credential(token).ok_or(AuthError::Invalid)?;
    let rec = store.unit(&code)?.ok_or(AuthError::Invalid)?;
    match (rec.enrolment, &rec.credential) {
        (Enrolment::Revoked, _) => Err(AuthError::Revoked(code)),
        // The ward keeps this unit's log until it is handed over: no agent
        // pushes beside it (a kept unit never holds a credential; this
        // holds the rule should one ever be left from before).
        _ if rec.kept_at_ward => Err(AuthError::Invalid),
        (_, Some(h)) if verify(secret, h) => Ok(rec),
        _ => Err(AuthError::Invalid),
    }
}

/// Checks a request to the Admin service: only the admin token passes; a
/// valid unit credential is told it is not allowed here.
pub(crate) fn check_admin(store: &Store, token: &str) -> Result<(), AuthError> {
    if let Some(h) = store.admin_token_hash()?
        && verify(token, &h)
    {
        return Ok(());
    }
    match unit_of(store, token) {
        Ok(_) | Err(AuthError::Revoked(_)) => Err(AuthError::UnitOnAdmin),
        Err(AuthError::Store(e)) => Err(AuthError::Store(e)),
        Err(_) => Err(AuthError::Invalid),
    }
}

/// Checks a one-time code against the unit's outstanding one.
pub(crate) fn code_matches(rec: &UnitRecord, code: &str, now: DateTime<Utc>) -> CodeCheck {
    match &rec.code {
        None => CodeCheck::NoneOutstanding,
        Some(p) if !verify(code, &p.hash) => CodeCheck::Wrong,
        Some(p) if p.expires_at <= now => CodeCheck::Expired,
        Some(_) => CodeCheck::Ok,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Ok,
    Wrong,
    Expired,
    /// Already used, or never issued.
    NoneOutstanding,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PendingCode;
    use coso_domain::{Unit, UnitKind};

    #[test]
    fn secrets_verify_only_themselves() {
        let (cred, h) = new_unit_credential(&"TDP05".parse().unwrap());
        let (unit, secret) = split_credential(&cred).unwrap();
        assert_eq!(unit.as_str(), "TDP05");
        assert_eq!(secret.len(), 64);
        assert!(verify(secret, &h));
        assert!(!verify(&format!("{secret}0"), &h));
        assert!(!verify("", &h));
        let (tok, th) = new_admin_token();
        assert!(tok.starts_with(ADMIN_PREFIX));
        assert!(verify(&tok, &th));
        assert!(
            split_credential(&tok).is_none(),
            "an admin token is not a unit credential"
        );
        assert_ne!(new_enrolment_code().0, new_enrolment_code().0);
    }

    #[test]
    fn bearer_header() {
        assert!(matches!(bearer("Bearer "), Err(AuthError::Missing)));
        assert!(matches!(bearer("Basic abc"), Err(AuthError::Malformed)));
        assert_eq!(bearer("Bearer TDP05.abc").unwrap(), "TDP05.abc");
    }

    #[tokio::test]
    async fn units_and_admins_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (admin, ah) = new_admin_token();
        store.set_admin_token_hash(ah).await.unwrap();
        let code: UnitCode = "TDP05".parse().unwrap();
        let unit = Unit::new(code.clone(), "Tổ dân phố số 5", UnitKind::ResidentialGroup).unwrap();
        let now = Utc::now();
        let (otc, otc_hash) = new_enrolment_code();
        let mut rec = UnitRecord::new(
            unit,
            PendingCode {
                hash: otc_hash,
                expires_at: now + chrono::Duration::hours(1),
            },
            now,
        );
        assert_eq!(code_matches(&rec, &otc, now), CodeCheck::Ok);
        assert_eq!(code_matches(&rec, "nope", now), CodeCheck::Wrong);
        assert_eq!(
            code_matches(&rec, &otc, now + chrono::Duration::hours(2)),
            CodeCheck::Expired
        );
        let (cred, ch) = new_unit_credential(&code);
        rec.credential = Some(ch);
        rec.enrolment = Enrolment::Active;
        rec.code = None;
        assert_eq!(code_matches(&rec, &otc, now), CodeCheck::NoneOutstanding);
        store.register(std::slice::from_ref(&rec)).await.unwrap();

        assert!(check_admin(&store, &admin).is_ok());
        assert!(matches!(
            check_admin(&store, &cred),
            Err(AuthError::UnitOnAdmin)
        ));
        assert!(matches!(
            check_admin(&store, "admin-00"),
            Err(AuthError::Invalid)
        ));
        assert_eq!(unit_of(&store, &cred).unwrap().unit.code, code);
        assert!(matches!(unit_of(&store, &admin), Err(AuthError::Invalid)));
        assert!(matches!(
            unit_of(&store, &format!("{cred}x")),
            Err(AuthError::Invalid)
        ));
        assert!(matches!(
            unit_of(&store, &cred.replace("TDP05", "TDP06")),
            Err(AuthError::Invalid)
        ));

        let g = store.lock_unit(&code).await;
        rec.enrolment = Enrolment::Revoked;
        store.put_unit(&g, &rec).await.unwrap();
        assert!(matches!(unit_of(&store, &cred), Err(AuthError::Revoked(_))));
    }
}
