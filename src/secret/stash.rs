//! The stash: a rotation's new token in the OS keyring (service `tokrot`, account
//! `pending:<rotation-id>`) from the moment the vendor returns it until the rotation has
//! finished, so that a crash or a failed target cannot lose it.

use secrecy::{ExposeSecret, SecretString};

/// The keyring service every tokrot entry lives under.
pub const SERVICE: &str = "tokrot";

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the OS keyring cannot be used: {0}")]
pub struct StashError(String);

fn entry(rotation_id: &str) -> Result<keyring::Entry, StashError> {
    keyring::Entry::new(SERVICE, &format!("pending:{rotation_id}"))
        .map_err(|e| StashError(e.to_string()))
}

/// Keeps a rotation's new token.
pub fn put(rotation_id: &str, token: &SecretString) -> Result<(), StashError> {
    entry(rotation_id)?
        .set_password(token.expose_secret())
        .map_err(|e| StashError(e.to_string()))
}

/// Reads a stashed token back.
pub fn get(rotation_id: &str) -> Result<SecretString, StashError> {
    entry(rotation_id)?
        .get_password()
        .map(SecretString::from)
        .map_err(|e| StashError(e.to_string()))
}

/// Removes a stashed token (the rotation has finished).
pub fn remove(rotation_id: &str) -> Result<(), StashError> {
    match entry(rotation_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(StashError(e.to_string())),
    }
}

/// Checks that the keyring can keep a secret and give it back, before a rotation starts.
pub fn probe(rotation_id: &str) -> Result<(), StashError> {
    let id = format!("probe:{rotation_id}");
    let value = SecretString::from(format!("probe-{rotation_id}"));
    put(&id, &value)?;
    let back = get(&id);
    remove(&id)?;
    match back {
        Ok(v) if v.expose_secret() == value.expose_secret() => Ok(()),
        Ok(_) => Err(StashError("the keyring gave back another value".into())),
        Err(e) => Err(e),
    }
}
