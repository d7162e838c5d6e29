//! The OS keyring (service `tokrot`): the tool's own credentials (`gitlab:<origin>`,
//! `zendesk:<origin>`, from `tokrot auth login`) and the stash — a rotation's new token
//! (`pending:<rotation-id>`) from the moment the vendor returns it until the rotation has
//! finished, so that a crash or a failed target cannot lose it.

use secrecy::{ExposeSecret, SecretString};

/// The keyring service every tokrot entry lives under.
pub const SERVICE: &str = "tokrot";

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the OS keyring cannot be used: {0}")]
pub struct StashError(String);

impl StashError {
    /// An error with this message.
    pub fn from_message(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

fn entry(account: &str) -> Result<keyring::Entry, StashError> {
    keyring::Entry::new(SERVICE, account).map_err(|e| StashError(e.to_string()))
}

/// Stores a secret under `account`.
pub fn set(account: &str, secret: &SecretString) -> Result<(), StashError> {
    entry(account)?
        .set_password(secret.expose_secret())
        .map_err(|e| StashError(e.to_string()))
}

/// Reads the secret under `account`; `Ok(None)` when there is none.
pub fn lookup(account: &str) -> Result<Option<SecretString>, StashError> {
    match entry(account)?.get_password() {
        Ok(v) => Ok(Some(SecretString::from(v))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(StashError(e.to_string())),
    }
}

/// Removes the secret under `account`; `Ok(false)` when there was none.
pub fn delete(account: &str) -> Result<bool, StashError> {
    match entry(account)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(StashError(e.to_string())),
    }
}

fn pending(rotation_id: &str) -> String {
    format!("pending:{rotation_id}")
}

/// Keeps a rotation's new token.
pub fn put(rotation_id: &str, token: &SecretString) -> Result<(), StashError> {
    set(&pending(rotation_id), token)
}

/// Reads a stashed token back.
pub fn get(rotation_id: &str) -> Result<SecretString, StashError> {
    lookup(&pending(rotation_id))?
        .ok_or_else(|| StashError(format!("no entry tokrot/pending:{rotation_id}")))
}

/// Looks for a stashed token: `Ok(None)` when there is none, `Err` when the keyring cannot tell.
pub fn find(rotation_id: &str) -> Result<Option<SecretString>, StashError> {
    lookup(&pending(rotation_id))
}

/// Removes a stashed token (the rotation has finished).
pub fn remove(rotation_id: &str) -> Result<(), StashError> {
    delete(&pending(rotation_id)).map(drop)
}

/// Checks that the keyring can keep a secret and give it back, before a rotation starts.
pub fn probe(rotation_id: &str) -> Result<(), StashError> {
    let account = format!("probe:{rotation_id}");
    let value = SecretString::from(format!("probe-{rotation_id}"));
    set(&account, &value)?;
    let back = lookup(&account);
    delete(&account)?;
    match back {
        Ok(Some(v)) if v.expose_secret() == value.expose_secret() => Ok(()),
        Ok(_) => Err(StashError("the keyring did not give the probe back".into())),
        Err(e) => Err(e),
    }
}
